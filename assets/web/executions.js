// The execution list (status and workflow filters, paging by last id, refreshed on its own
// while something runs) and the execution page: the workflow graph coloured by each node's
// result, and a panel with the selected node's input and output items (table or JSON), its
// error, and retry / stop.
'use strict';

(() => {
  const PAGE_SIZE = 20;
  const FAST = 1500; // while something runs
  const SLOW = 5000; // otherwise, so that new runs show up without a reload
  const shared = () => window.flowgateShared;

  function showList(ctx, _match, root, navigated) {
    const { h, rest, failed, timeElement, BASE } = ctx;
    const { statusBadge, duration, poller, ACTIVE, STATUS_NAMES } = shared();
    ctx.setTitle('Executions');
    const params = new URLSearchParams(location.search);
    const statusSelect = h('select', { id: 'ex-status' }, h('option', { value: '' }, 'Any status'),
      Object.entries(STATUS_NAMES).map(([value, label]) => h('option', { value }, label)));
    statusSelect.value = params.get('status') || '';
    const workflowSelect = h('select', { id: 'ex-workflow' }, h('option', { value: '' }, 'Any workflow'));
    const wanted = params.get('workflowId') || '';
    if (wanted) { workflowSelect.append(h('option', { value: wanted }, wanted)); workflowSelect.value = wanted; }
    const body = h('tbody', {});
    const table = h('table', { class: 'list executions', 'aria-busy': 'true' },
      h('caption', { class: 'visually-hidden' }, 'Executions'),
      h('thead', {}, h('tr', {}, ['Execution', 'Workflow', 'Status', 'Mode', 'Started', 'Duration'].map((t) => h('th', { scope: 'col' }, t)))), body);
    const empty = h('div', { class: 'empty', hidden: true }, h('p', {}, h('strong', {}, 'No executions yet.')),
      h('p', { class: 'muted' }, 'Runs of published workflows show up here as they happen.'));
    const more = h('button', { type: 'button', class: 'ghost', hidden: true }, 'Load more');
    const live = h('span', { class: 'muted live' }, '');
    root.append(
      h('div', { class: 'page-head' }, h('h1', {}, 'Executions'), live),
      h('p', { class: 'muted' }, 'Every run of the workflows of your projects, newest first.'),
      h('div', { class: 'tools' },
        h('div', { class: 'field inline' }, h('label', { for: 'ex-status' }, 'Status'), statusSelect),
        h('div', { class: 'field inline' }, h('label', { for: 'ex-workflow' }, 'Workflow'), workflowSelect)),
      h('div', { class: 'list-frame' }, table, empty),
      h('nav', { class: 'pager', 'aria-label': 'More executions' }, more));
    if (navigated) ctx.focusHeading(root);

    let shownPages = 1;
    let request = 0;
    async function load() {
      const mine = ++request;
      const filter = {};
      if (statusSelect.value) filter.status = [statusSelect.value];
      if (workflowSelect.value) filter.workflowId = workflowSelect.value;
      const query = new URLSearchParams({ filter: JSON.stringify(filter), limit: String(PAGE_SIZE * shownPages) });
      try {
        const answer = await rest('GET', `/executions?${query}`);
        if (mine !== request) return SLOW;
        body.replaceChildren(...answer.results.map(row));
        table.hidden = !answer.results.length;
        empty.hidden = Boolean(answer.results.length);
        more.hidden = answer.count <= answer.results.length;
        const running = answer.results.some((e) => ACTIVE.includes(e.status));
        live.textContent = running ? 'Refreshing while executions run…' : '';
        return running ? FAST : SLOW;
      } catch (error) {
        failed(error);
        return SLOW;
      } finally {
        table.setAttribute('aria-busy', 'false');
      }
    }

    function row(execution) {
      return h('tr', { 'data-id': execution.id },
        h('td', { class: 'label-cell', 'data-label': 'Execution' },
          h('a', { href: `${BASE}/execution/${execution.id}`, 'data-nav': 'execution' }, `#${execution.id}`),
          execution.retryOf ? h('span', { class: 'sub' }, `Retry of #${execution.retryOf}`) : null),
        h('td', { 'data-label': 'Workflow' }, execution.workflowName || execution.workflowId),
        h('td', { 'data-label': 'Status' }, statusBadge(h, execution.status)),
        h('td', { 'data-label': 'Mode' }, execution.mode),
        h('td', { 'data-label': 'Started' }, execution.startedAt ? timeElement(execution.startedAt, true) : ''),
        h('td', { 'data-label': 'Duration' }, duration(execution.startedAt, execution.stoppedAt)));
    }

    const reload = () => { shownPages = 1; history.replaceState(null, '', `${BASE}/executions?${new URLSearchParams(Object.entries({ status: statusSelect.value, workflowId: workflowSelect.value }).filter(([, v]) => v))}`); load(); };
    statusSelect.addEventListener('change', reload);
    workflowSelect.addEventListener('change', reload);
    more.addEventListener('click', () => { shownPages += 1; load(); });
    fetch(`${BASE}/rest/workflows?limit=250`, { credentials: 'same-origin', cache: 'no-store' })
      .then((r) => (r.ok ? r.json() : { data: [] }))
      .then((answer) => {
        for (const w of answer.data || []) {
          const existing = Array.from(workflowSelect.options).find((o) => o.value === w.id);
          if (existing) existing.textContent = w.name;
          else workflowSelect.append(h('option', { value: w.id }, w.name));
        }
      }).catch(() => {});
    load();
    const stop = poller(load, SLOW);
    return () => { request += 1; stop(); };
  }

  /** Each node's result in an execution: its last run's status and item count. */
  function resultsOf(execution) {
    const runData = execution.data?.resultData?.runData || {};
    const results = {};
    for (const [name, runs] of Object.entries(runData)) {
      const last = runs[runs.length - 1] || {};
      const items = (last.data?.main || []).reduce((n, output) => n + (output ? output.length : 0), 0);
      const status = last.error || last.executionStatus === 'error' ? 'error'
        : (['running', 'waiting'].includes(last.executionStatus) ? 'running' : 'success');
      results[name] = { status, items };
    }
    return results;
  }

  /** The items a run of `name` read: the outputs of the nodes its sources name. */
  function inputOf(execution, run) {
    const runData = execution.data?.resultData?.runData || {};
    const items = [];
    for (const source of run.source || []) {
      if (!source) continue;
      const from = (runData[source.previousNode] || [])[source.previousNodeRun || 0];
      items.push(...((from?.data?.main || [])[source.previousNodeOutput || 0] || []));
    }
    return items;
  }

  function showExecution(ctx, match, root, navigated) {
    const { h, rest, failed, toast, go, timeElement, BASE } = ctx;
    const { statusBadge, duration, itemsTable, nodeDetails, poller, ACTIVE } = shared();
    const id = decodeURIComponent(match[1]);
    const heading = h('h1', {}, `Execution #${id}`);
    const meta = h('p', { class: 'meta' });
    const actions = h('div', { class: 'head-actions' });
    const errorBox = h('div', { class: 'form-error run-error', hidden: true });
    const canvas = h('div', { class: 'graph-frame', 'aria-busy': 'true' }, h('p', { class: 'muted graph-wait' }, 'Loading the graph…'));
    const panel = h('aside', { class: 'node-panel', 'aria-label': 'Node details' },
      h('h2', {}, 'Node'), h('p', { class: 'muted' }, 'Select a node to see what it read and wrote.'));
    root.append(
      h('p', { class: 'crumbs' }, h('a', { href: `${BASE}/executions`, 'data-nav': 'executions' }, 'Executions')),
      h('div', { class: 'page-head' }, heading, actions), meta,
      // Below the graph, so that showing it moves nothing that is already on the screen.
      h('div', { class: 'graph-layout' }, canvas, panel), errorBox);
    if (navigated) ctx.focusHeading(root);
    let alive = true;
    let selected = null;
    let stopPolling = () => {};

    function nodePanel(execution, node, results) {
      const runs = execution.data?.resultData?.runData?.[node.name] || [];
      const run = runs[runs.length - 1];
      const result = results[node.name];
      const parts = [h('h2', {}, node.name)];
      if (!run) {
        parts.push(h('p', { class: 'muted' }, 'This node did not run.'), nodeDetails(h, node));
        return parts;
      }
      parts.push(h('p', {}, statusBadge(h, result.status === 'error' ? 'error' : 'success'), ` ${result.items} item${result.items === 1 ? '' : 's'} out · ${run.executionTime ?? 0} ms`));
      if (run.error) {
        parts.push(h('div', { class: 'form-error node-error', role: 'alert' }, h('strong', {}, run.error.message || 'Error'),
          run.error.description ? h('p', {}, String(run.error.description)) : null),
        run.error.stack ? h('details', {}, h('summary', {}, 'Stack'), h('pre', { class: 'json' }, String(run.error.stack))) : null);
      }
      const input = inputOf(execution, run);
      const outputs = run.data?.main || [];
      const mode = h('fieldset', { class: 'segmented' }, h('legend', { class: 'visually-hidden' }, 'Show items as'),
        h('input', { type: 'radio', id: 'view-table', name: 'items-view', value: 'table', checked: true }), h('label', { for: 'view-table' }, 'Table'),
        h('input', { type: 'radio', id: 'view-json', name: 'items-view', value: 'json' }), h('label', { for: 'view-json' }, 'JSON'));
      const views = h('div', {});
      const paint = () => {
        const asJson = mode.querySelector('input:checked').value === 'json';
        const show = (items, caption) => (asJson ? h('pre', { class: 'json' }, JSON.stringify(items.map((i) => i.json), null, 2)) : itemsTable(h, items, caption));
        views.replaceChildren(
          h('h3', {}, `Input (${input.length})`), show(input, `Input of ${node.name}`),
          ...outputs.flatMap((items, i) => [h('h3', {}, outputs.length > 1 ? `Output ${i} (${(items || []).length})` : `Output (${(items || []).length})`), show(items || [], `Output ${i} of ${node.name}`)]));
      };
      mode.addEventListener('change', paint);
      paint();
      parts.push(mode, views, h('details', {}, h('summary', {}, 'Parameters'), nodeDetails(h, node)));
      return parts;
    }

    function render(execution) {
      ctx.setTitle(`Execution #${execution.id}`);
      const workflow = execution.workflowData || { nodes: [], connections: {} };
      heading.textContent = `Execution #${execution.id}`;
      meta.replaceChildren(statusBadge(h, execution.status), ' ',
        h('a', { href: `${BASE}/workflow/${encodeURIComponent(execution.workflowId)}`, 'data-nav': 'workflows' }, workflow.name || execution.workflowId),
        ` · ${execution.mode} · `, execution.startedAt ? timeElement(execution.startedAt, true) : '', ` · ${duration(execution.startedAt, execution.stoppedAt)}`,
        execution.retryOf ? h('span', {}, ' · retry of ', h('a', { href: `${BASE}/execution/${execution.retryOf}`, 'data-nav': 'execution' }, `#${execution.retryOf}`)) : '',
        execution.retrySuccessId ? h('span', {}, ' · retried by ', h('a', { href: `${BASE}/execution/${execution.retrySuccessId}`, 'data-nav': 'execution' }, `#${execution.retrySuccessId}`)) : '');
      const runError = execution.data?.resultData?.error;
      errorBox.hidden = !runError;
      errorBox.replaceChildren(runError ? h('strong', {}, `${execution.data.resultData.lastNodeExecuted ? `${execution.data.resultData.lastNodeExecuted}: ` : ''}${runError.message || 'The execution failed.'}`) : '');
      const buttons = [];
      if (ACTIVE.includes(execution.status)) {
        buttons.push(h('button', { type: 'button', class: 'small', onclick: () => act('stop') }, 'Stop'));
      }
      if (['error', 'crashed', 'canceled'].includes(execution.status) && !execution.retrySuccessId) {
        buttons.push(h('button', { type: 'button', class: 'small', onclick: () => act('retry', { loadWorkflow: false }) }, 'Retry'),
          h('button', { type: 'button', class: 'small ghost', onclick: () => act('retry', { loadWorkflow: true }) }, 'Retry with the current workflow'));
      }
      actions.replaceChildren(...buttons);
      const results = resultsOf(execution);
      const graph = window.flowgateGraph.draw(canvas, workflow, {
        results,
        onSelect: (node) => { selected = node.name; panel.replaceChildren(...nodePanel(execution, node, results)); },
      });
      canvas.setAttribute('aria-busy', 'false');
      const failedNode = Object.entries(results).find(([, r]) => r.status === 'error');
      const first = selected || (failedNode ? failedNode[0] : execution.data?.resultData?.lastNodeExecuted);
      if (first) graph.select(first);
      return ACTIVE.includes(execution.status);
    }

    async function act(what, body) {
      for (const b of actions.querySelectorAll('button')) b.disabled = true;
      try {
        const answer = await rest('POST', `/executions/${encodeURIComponent(id)}/${what}`, body || {});
        if (what === 'retry') {
          toast(`Retried as execution #${answer.id}.`);
          go(`/execution/${answer.id}`);
        } else {
          toast('Execution stopped.');
          await refresh();
        }
      } catch (error) {
        failed(error);
        await refresh();
      }
    }

    async function refresh() {
      try {
        const execution = await rest('GET', `/executions/${encodeURIComponent(id)}`);
        if (!alive) return null;
        return render(execution) ? FAST : null;
      } catch (error) {
        if (!alive) return null;
        canvas.replaceChildren(h('p', { class: 'muted graph-wait' }, error.message));
        failed(error);
        return null;
      }
    }

    refresh().then((again) => {
      if (again && alive) {
        stopPolling = poller(async () => { const next = await refresh(); if (!next) stopPolling(); return FAST; }, FAST);
      }
    });
    return () => { alive = false; stopPolling(); };
  }

  window.flowgatePages.push(
    { name: 'executions', pattern: /^\/executions$/, show: showList },
    { name: 'executions', pattern: /^\/execution\/(\d+)$/, show: showExecution },
  );
})();
