// Shared pieces of the workflow, execution and overview pages: the page registry app.js
// reads, status badges, durations, and the table of items a node read or wrote.
'use strict';

(() => {
  window.flowgatePages = window.flowgatePages || [];

  const STATUS_NAMES = {
    success: 'Success', error: 'Error', crashed: 'Crashed', canceled: 'Canceled', running: 'Running',
    waiting: 'Waiting', new: 'Queued', unknown: 'Unknown',
  };
  const ACTIVE = ['running', 'waiting', 'new'];

  function statusBadge(h, status) {
    return h('span', { class: `badge status ${status}` }, STATUS_NAMES[status] || status);
  }

  function duration(startedAt, stoppedAt) {
    if (!startedAt) return '';
    const end = stoppedAt ? new Date(stoppedAt) : new Date();
    const ms = Math.max(0, end - new Date(startedAt));
    if (ms < 1000) return `${ms} ms`;
    if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
    const minutes = Math.floor(ms / 60_000);
    return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
  }

  /** Items as a table: one column per key of the first 50 items' `json`. */
  function itemsTable(h, items, caption) {
    if (!items.length) return h('p', { class: 'muted' }, 'No items.');
    const keys = [];
    for (const item of items.slice(0, 50)) {
      for (const key of Object.keys(item.json || {})) if (!keys.includes(key)) keys.push(key);
    }
    const cell = (value) => {
      if (value === undefined) return '';
      if (value !== null && typeof value === 'object') return JSON.stringify(value);
      return String(value);
    };
    return h('div', { class: 'items-scroll' }, h('table', { class: 'items' },
      h('caption', { class: 'visually-hidden' }, caption),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, '#'), keys.map((k) => h('th', { scope: 'col' }, k)))),
      h('tbody', {}, items.slice(0, 200).map((item, i) => h('tr', {},
        h('td', {}, String(i)), keys.map((k) => h('td', {}, cell((item.json || {})[k]))))))));
  }

  /** A workflow node's parameters as a definition list (credentials by name only). */
  function nodeDetails(h, node) {
    const rows = [];
    const add = (term, value) => rows.push(h('dt', {}, term), h('dd', {}, value));
    add('Type', `${node.type} (version ${node.typeVersion ?? 1})`);
    if (node.disabled) add('State', 'Disabled');
    for (const [type, credential] of Object.entries(node.credentials || {})) {
      add(`Credential (${type})`, credential && credential.name ? credential.name : '(unnamed)');
    }
    const parameters = node.parameters || {};
    return h('div', {}, h('dl', { class: 'facts' }, rows),
      h('h3', {}, 'Parameters'),
      Object.keys(parameters).length
        ? h('pre', { class: 'json' }, JSON.stringify(parameters, null, 2))
        : h('p', { class: 'muted' }, 'No parameters set.'));
  }

  /** Polls `tick` every `ms` (its answer may change the interval) until stopped. */
  function poller(tick, ms) {
    let timer = null;
    let stopped = false;
    async function run() {
      if (stopped) return;
      let next = ms;
      try {
        next = (await tick()) || ms;
      } finally {
        if (!stopped) timer = setTimeout(run, next);
      }
    }
    timer = setTimeout(run, ms);
    return () => { stopped = true; clearTimeout(timer); };
  }

  window.flowgateShared = { statusBadge, duration, itemsTable, nodeDetails, poller, ACTIVE, STATUS_NAMES };
})();
