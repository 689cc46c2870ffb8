// The workflow list (search, tag and state filters, cursor paging, publish / unpublish /
// archive where the user's role allows) and the workflow page (the published or draft
// version drawn as a graph, a node's parameters on click).
'use strict';

(() => {
  const PAGE_SIZE = 20;
  const shared = () => window.flowgateShared;

  function actionButtons(ctx, workflow, after) {
    const { h, rest, toast, failed } = ctx;
    const scopes = workflow.scopes || [];
    const buttons = [];
    const act = (label, path, done) => h('button', {
      type: 'button', class: 'small', 'aria-label': `${label} ${workflow.name}`,
      onclick: async (event) => {
        event.currentTarget.disabled = true;
        try {
          const updated = await rest('POST', `/workflows/${encodeURIComponent(workflow.id)}/${path}`, path === 'activate' ? {} : undefined);
          toast(done);
          after(updated);
        } catch (error) {
          failed(error);
          after(null);
        }
      },
    }, label);
    if (!workflow.isArchived && scopes.includes('workflow:publish')) {
      buttons.push(workflow.active
        ? act('Unpublish', 'deactivate', `${workflow.name} is unpublished.`)
        : act('Publish', 'activate', `${workflow.name} is published.`));
    }
    if (!workflow.isArchived && scopes.includes('workflow:delete')) buttons.push(act('Archive', 'archive', `${workflow.name} is archived.`));
    return buttons;
  }

  // The triggers a manual run can start from (the server's rule, mirrored to offer the
  // button only where it works): a Manual Trigger, or a trigger with pinned data.
  const MANUAL_STARTS = ['n8n-nodes-base.manualTrigger', 'n8n-nodes-base.start'];
  function manualStart(workflow) {
    const pins = workflow.pinData || {};
    const enabled = (workflow.nodes || []).filter((n) => !n.disabled);
    const manual = enabled.find((n) => MANUAL_STARTS.includes(n.type));
    if (manual) return manual;
    return enabled.find((n) => /trigger|webhook/i.test(n.type) && Array.isArray(pins[n.name]) && pins[n.name].length);
  }

  /** "Run" for an editor of a workflow whose draft has a trigger to start a manual run from:
   * the server runs the saved draft (mode "manual") and the page opens the new execution. */
  function runButton(ctx, workflow) {
    const { h, rest, toast, failed, go } = ctx;
    if (workflow.isArchived || !(workflow.scopes || []).includes('workflow:execute')) return null;
    const start = manualStart(workflow);
    if (!start) return null;
    return h('button', {
      type: 'button', class: 'small', title: `Runs the saved draft from "${start.name}"`,
      onclick: async (event) => {
        const button = event.currentTarget;
        button.disabled = true;
        try {
          const answer = await rest('POST', `/workflows/${encodeURIComponent(workflow.id)}/run`, { workflowData: { id: workflow.id } });
          toast(`Started execution #${answer.executionId}.`);
          go(`/execution/${answer.executionId}`);
        } catch (error) {
          failed(error);
          button.disabled = false;
        }
      },
    }, 'Run');
  }

  /** "Call" for a production URL on this page's own origin (the page loads nothing from
   * elsewhere): one request with an empty JSON body (GET and HEAD without), a real
   * production run, then the workflow's executions. */
  function callButton(ctx, workflow, hook) {
    const { h, toast, failed, go } = ctx;
    let url;
    try { url = new URL(hook.url); } catch { return null; }
    if (url.origin !== window.location.origin) return null;
    return h('button', {
      type: 'button', class: 'small ghost', 'aria-label': `Call ${hook.method} ${hook.url}`,
      onclick: async (event) => {
        const button = event.currentTarget;
        button.disabled = true;
        const bodyless = ['GET', 'HEAD'].includes(hook.method);
        try {
          const response = await fetch(url, {
            method: hook.method, credentials: 'omit', cache: 'no-store',
            headers: bodyless ? {} : { 'Content-Type': 'application/json' },
            body: bodyless ? undefined : '{}',
          });
          toast(`The webhook answered ${response.status}.`);
          go(`/executions?workflowId=${encodeURIComponent(workflow.id)}`);
        } catch (error) {
          failed(error);
          button.disabled = false;
        }
      },
    }, 'Call');
  }

  function stateBadge(h, workflow) {
    if (workflow.isArchived) return h('span', { class: 'badge' }, 'Archived');
    return workflow.active ? h('span', { class: 'badge published' }, 'Published') : h('span', { class: 'badge' }, 'Unpublished');
  }

  function showList(ctx, _match, root, navigated) {
    const { h, rest, failed, timeElement, BASE } = ctx;
    const { statusBadge } = shared();
    ctx.setTitle('Workflows');
    const search = h('input', { id: 'wf-search', type: 'search', maxlength: 128, autocomplete: 'off' });
    const tagSelect = h('select', { id: 'wf-tag' }, h('option', { value: '' }, 'Any tag'));
    const stateSelect = h('select', { id: 'wf-state' },
      h('option', { value: '' }, 'Any'), h('option', { value: 'true' }, 'Published'), h('option', { value: 'false' }, 'Unpublished'));
    const body = h('tbody', {});
    const empty = h('div', { class: 'empty', hidden: true }, h('p', {}, h('strong', {}, 'No workflows found.')),
      h('p', { class: 'muted' }, 'Create workflows through the API or import them from n8n.'));
    const table = h('table', { class: 'list workflows', 'aria-busy': 'true' },
      h('caption', { class: 'visually-hidden' }, 'Workflows'),
      h('thead', {}, h('tr', {}, ['Name', 'Project', 'State', 'Last change', 'Last execution'].map((t) => h('th', { scope: 'col' }, t)),
        h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))), body);
    const prev = h('button', { type: 'button', class: 'ghost', disabled: true }, 'Previous');
    const next = h('button', { type: 'button', class: 'ghost', disabled: true }, 'Next');
    const range = h('span', { 'aria-live': 'polite' });
    // Shown once the first page is in: appearing below the rows moves nothing, whereas a
    // pager drawn early would be pushed down by them (a layout shift).
    const pager = h('nav', { class: 'pager', 'aria-label': 'Workflow pages', hidden: true }, prev, range, next);
    root.append(
      h('div', { class: 'page-head' }, h('h1', {}, 'Workflows')),
      h('p', { class: 'muted' }, 'The workflows of your projects. Open one to see its shape.'),
      h('div', { class: 'tools' },
        h('div', { class: 'field inline' }, h('label', { for: 'wf-search' }, 'Search by name'), search),
        h('div', { class: 'field inline' }, h('label', { for: 'wf-tag' }, 'Tag'), tagSelect),
        h('div', { class: 'field inline' }, h('label', { for: 'wf-state' }, 'State'), stateSelect)),
      h('div', { class: 'list-frame' }, table, empty),
      pager);
    if (navigated) ctx.focusHeading(root);

    const cursors = [null];
    let pageIndex = 0;
    let request = 0;

    async function load() {
      const mine = ++request;
      const filter = {};
      if (search.value.trim()) filter.name = search.value.trim();
      if (tagSelect.value) filter.tags = [tagSelect.value];
      if (stateSelect.value) filter.active = stateSelect.value === 'true';
      const query = new URLSearchParams({ filter: JSON.stringify(filter), limit: String(PAGE_SIZE) });
      if (cursors[pageIndex]) query.set('cursor', cursors[pageIndex]);
      table.setAttribute('aria-busy', 'true');
      try {
        const answer = await fetchList(query);
        if (mine !== request) return;
        cursors[pageIndex + 1] = answer.nextCursor || null;
        body.replaceChildren(...answer.data.map(row));
        table.hidden = !answer.data.length;
        empty.hidden = Boolean(answer.data.length);
        prev.disabled = pageIndex === 0;
        next.disabled = !answer.nextCursor;
        range.textContent = answer.data.length ? `Page ${pageIndex + 1}` : '';
        pager.hidden = false;
      } catch (error) {
        failed(error);
      } finally {
        table.setAttribute('aria-busy', 'false');
      }
    }

    // The list answers {count, data, nextCursor} without the {data} envelope, as n8n does.
    async function fetchList(query) {
      const response = await fetch(`${BASE}/rest/workflows?${query}`, { credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' } });
      const json = await response.json().catch(() => null);
      if (!response.ok) throw new ctx.RestError(response.status, (json && json.message) || `The server answered ${response.status}.`);
      return json;
    }

    function row(workflow) {
      const link = h('a', { href: `${BASE}/workflow/${encodeURIComponent(workflow.id)}`, 'data-nav': 'workflow' }, workflow.name);
      const last = workflow.lastExecution;
      return h('tr', { 'data-id': workflow.id },
        h('td', { class: 'label-cell', 'data-label': 'Name' }, link,
          (workflow.tags || []).length ? h('span', { class: 'tag-list' }, workflow.tags.map((t) => h('span', { class: 'badge tag' }, t.name))) : null),
        h('td', { 'data-label': 'Project' }, workflow.homeProject ? workflow.homeProject.name : ''),
        h('td', { 'data-label': 'State' }, stateBadge(h, workflow)),
        h('td', { 'data-label': 'Last change' }, timeElement(workflow.updatedAt, true)),
        h('td', { 'data-label': 'Last execution' }, last
          ? h('a', { href: `${BASE}/execution/${last.id}`, 'data-nav': 'execution' }, statusBadge(h, last.status))
          : h('span', { class: 'muted' }, 'None')),
        h('td', { class: 'actions-cell' }, actionButtons(ctx, workflow, () => load())));
    }

    let typing = null;
    search.addEventListener('input', () => { clearTimeout(typing); typing = setTimeout(() => { cursors.length = 1; pageIndex = 0; load(); }, 250); });
    for (const select of [tagSelect, stateSelect]) select.addEventListener('change', () => { cursors.length = 1; pageIndex = 0; load(); });
    prev.addEventListener('click', () => { pageIndex = Math.max(0, pageIndex - 1); load(); });
    next.addEventListener('click', () => { pageIndex += 1; load(); });
    rest('GET', '/tags').then((tags) => {
      for (const tag of tags || []) tagSelect.append(h('option', { value: tag.name }, tag.name));
    }).catch(() => {});
    load();
    return () => { request += 1; clearTimeout(typing); };
  }

  function showWorkflow(ctx, match, root, navigated) {
    const { h, rest, failed, BASE } = ctx;
    const id = decodeURIComponent(match[1]);
    const heading = h('h1', {}, 'Workflow');
    const actions = h('div', { class: 'head-actions' });
    const badges = h('p', { class: 'meta' });
    const versionSelect = h('select', { id: 'wf-version' });
    const notice = h('p', { class: 'notice', hidden: true });
    // Where the published version answers, to call it from anywhere: below the graph, so
    // that filling it in moves nothing above.
    const callAt = h('section', { class: 'webhook-urls', 'aria-label': 'Production URLs', hidden: true });
    const canvas = h('div', { class: 'graph-frame', 'aria-busy': 'true' }, h('p', { class: 'muted graph-wait' }, 'Loading the graph…'));
    const panel = h('aside', { class: 'node-panel', 'aria-label': 'Node details' },
      h('h2', {}, 'Node'), h('p', { class: 'muted' }, 'Select a node to see its parameters.'));
    root.append(
      h('p', { class: 'crumbs' }, h('a', { href: `${BASE}/workflows`, 'data-nav': 'workflows' }, 'Workflows')),
      h('div', { class: 'page-head' }, heading, actions), badges,
      h('div', { class: 'tools' }, h('div', { class: 'field inline invisible' }, h('label', { for: 'wf-version' }, 'Version shown'), versionSelect),
        h('a', { href: `${BASE}/executions?workflowId=${encodeURIComponent(id)}`, 'data-nav': 'executions' }, 'Executions of this workflow')),
      // The notice goes below the graph, so that showing it moves nothing on the screen.
      h('div', { class: 'graph-layout' }, canvas, panel), notice, callAt);
    if (navigated) ctx.focusHeading(root);
    let alive = true;

    function render(workflow) {
      ctx.setTitle(workflow.name);
      heading.textContent = workflow.name;
      badges.replaceChildren(stateBadge(h, workflow), ' ',
        workflow.homeProject ? h('span', { class: 'muted' }, `in ${workflow.homeProject.name}`) : '');
      const run = runButton(ctx, workflow);
      actions.replaceChildren(...(run ? [run] : []), ...actionButtons(ctx, workflow, (updated) => { if (updated) render(updated); }));
      const versions = [];
      if (workflow.activeVersion) versions.push({ value: 'published', label: 'Published version', nodes: workflow.activeVersion.nodes, connections: workflow.activeVersion.connections });
      versions.push({ value: 'draft', label: workflow.activeVersion ? 'Draft (latest save)' : 'Draft', nodes: workflow.nodes, connections: workflow.connections });
      versionSelect.replaceChildren(...versions.map((v) => h('option', { value: v.value }, v.label)));
      // Hidden, not removed, while there is no choice: the row keeps its height.
      versionSelect.parentElement.classList.toggle('invisible', versions.length < 2);
      const hooks = workflow.webhooks || [];
      callAt.hidden = !hooks.length;
      callAt.replaceChildren(h('h2', {}, 'Production URLs'),
        h('ul', {}, hooks.map((hook) => h('li', {},
          h('span', { class: 'badge' }, hook.method), ' ', h('code', {}, hook.url), ' ',
          h('span', { class: 'muted' }, `(${hook.node})`), ' ', callButton(ctx, workflow, hook)))));
      const unsupported = (workflow.unsupportedNodes || []).map((n) => n.name);
      notice.hidden = !unsupported.length;
      notice.textContent = unsupported.length ? `This server cannot run: ${unsupported.join(', ')}. These nodes are marked in the graph.` : '';
      const drawVersion = () => {
        const version = versions.find((v) => v.value === versionSelect.value) || versions[0];
        window.flowgateGraph.draw(canvas, version, {
          unsupported,
          onSelect: (node) => panel.replaceChildren(h('h2', {}, node.name), shared().nodeDetails(h, node)),
        });
        canvas.setAttribute('aria-busy', 'false');
      };
      versionSelect.onchange = drawVersion;
      drawVersion();
    }

    rest('GET', `/workflows/${encodeURIComponent(id)}`)
      .then((workflow) => { if (alive) render(workflow); })
      .catch((error) => {
        if (!alive) return;
        canvas.replaceChildren(h('p', { class: 'muted graph-wait' }, error.message));
        failed(error);
      });
    return () => { alive = false; };
  }

  window.flowgatePages.push(
    { name: 'workflows', pattern: /^\/workflows$/, show: showList },
    { name: 'workflows', pattern: /^\/workflow\/([^/]+)$/, show: showWorkflow },
  );
})();
