// Browser tests of the workflow, execution and overview pages: the real server on a fresh
// SQLite folder, an owner set up through /rest, workflows created and published through the
// public API, run by webhook calls, and looked at through headless Chromium. Also a member,
// who must see none of the owner's workflows or executions, and the time a 200-node graph
// takes to draw. Screenshots go to E2E_SCREENSHOTS (names start with "runs-").
//
// The steps share one server and one browser and run in order: each builds on the last.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import {
  cleanUp, DESKTOP, EMAIL, openBrowser, PASSWORD, PHONE, screenshot, shotPrefix, SHOTS, startServer, watch,
} from './support.mjs';

let origin;
let page;
let problems;

before(async () => {
  await mkdir(SHOTS, { recursive: true });
  shotPrefix.value = 'runs-';
  origin = await startServer();
  const context = await openBrowser();
  // Layout shifts of each page load, summed as the browser reports them (cumulative layout
  // shift); an init script runs outside the page's CSP.
  await context.addInitScript(() => {
    window.e2eLayoutShift = 0;
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) if (!entry.hadRecentInput) window.e2eLayoutShift += entry.value;
    }).observe({ type: 'layout-shift', buffered: true });
  });
  page = context.pages()[0] || (await context.newPage());
  problems = watch(page, origin);
  const setup = await fetch(`${origin}/rest/owner/setup`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: EMAIL, firstName: 'Olive', lastName: 'Owner', password: PASSWORD }),
  });
  assert.equal(setup.status, 200, await setup.text());
  await page.goto(`${origin}/signin`);
  const form = page.getByRole('form', { name: 'Sign in' });
  await form.getByLabel('Email').fill(EMAIL);
  await form.getByLabel('Password').fill(PASSWORD);
  await form.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${origin}/settings/api`);
});

after(cleanUp);

/** A key of the signed-in user with every scope their role allows (through /rest). */
async function keyOfSignedInUser(label) {
  const scopes = (await (await page.request.get(`${origin}/rest/api-keys/scopes`)).json()).data;
  const created = await page.request.post(`${origin}/rest/api-keys`, { data: { label, scopes, expiresAt: null } });
  assert.equal(created.status(), 200, await created.text());
  return (await created.json()).data.rawApiKey;
}

async function publicApi(method, apiPath, key, body) {
  const response = await fetch(`${origin}/api/v1${apiPath}`, {
    method,
    headers: { 'X-N8N-API-KEY': key, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await response.json().catch(() => null);
  assert.ok(response.ok, `${method} ${apiPath}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

async function signInAs(email, password) {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(`${origin}/signin`);
  const form = page.getByRole('form', { name: 'Sign in' });
  await form.getByLabel('Email').fill(email);
  await form.getByLabel('Password').fill(password);
  await form.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/settings\/api$/);
}

/** Webhook → Prepare (Set) → Fail (Stop and Error) → After (not reached); a disabled node
 * and a sticky note besides. */
const FLOW = {
  name: 'E2E flow',
  nodes: [
    { id: 'a1', name: 'Webhook', type: 'n8n-nodes-base.webhook', typeVersion: 2, position: [0, 0], webhookId: '7d1c43f6-3c55-4a4c-9a3e-5f2d7f7c6e01',
      parameters: { httpMethod: 'POST', path: 'e2e-flow', responseMode: 'onReceived', options: {} } },
    { id: 'a2', name: 'Prepare', type: 'n8n-nodes-base.set', typeVersion: 3.4, position: [240, 0],
      parameters: { mode: 'manual', assignments: { assignments: [{ id: 'f1', name: 'greeting', value: "={{ 'hello ' + $json.body.name }}", type: 'string' }] }, options: {} } },
    { id: 'a3', name: 'Fail', type: 'n8n-nodes-base.stopAndError', typeVersion: 1, position: [480, 0],
      parameters: { errorMessage: '=Deliberate failure after {{ $json.greeting }}' } },
    { id: 'a4', name: 'After', type: 'n8n-nodes-base.noOp', typeVersion: 1, position: [720, 0], parameters: {} },
    { id: 'a5', name: 'Disabled step', type: 'n8n-nodes-base.noOp', typeVersion: 1, position: [240, 200], parameters: {}, disabled: true },
    { id: 'a6', name: 'Note', type: 'n8n-nodes-base.stickyNote', typeVersion: 1, position: [0, 200], parameters: { content: '## About\nCalled by the browser tests.', width: 200, height: 120 } },
  ],
  connections: {
    Webhook: { main: [[{ node: 'Prepare', type: 'main', index: 0 }]] },
    Prepare: { main: [[{ node: 'Fail', type: 'main', index: 0 }]] },
    Fail: { main: [[{ node: 'After', type: 'main', index: 0 }]] },
  },
  settings: { executionOrder: 'v1' },
};

let ownerKey;
let flowId;
let failedExecution;

test('a workflow published through the API is listed and drawn with its nodes and edges', async () => {
  await page.goto(`${origin}/settings/api`);
  ownerKey = await keyOfSignedInUser('e2e workflows');
  flowId = (await publicApi('POST', '/workflows', ownerKey, FLOW)).id;
  await publicApi('POST', `/workflows/${flowId}/activate`, ownerKey);
  await publicApi('POST', '/workflows', ownerKey, { name: 'Draft only', nodes: FLOW.nodes.slice(0, 2), connections: {}, settings: {} });

  await page.getByRole('link', { name: 'Workflows' }).click();
  await page.waitForURL(`${origin}/workflows`);
  const row = page.getByRole('row').filter({ hasText: 'E2E flow' });
  await row.getByText('Published').waitFor();
  await page.getByRole('row').filter({ hasText: 'Draft only' }).getByText('Unpublished').waitFor();
  await page.getByLabel('Search by name').fill('draft');
  await page.getByRole('row').filter({ hasText: 'E2E flow' }).waitFor({ state: 'detached' });
  await page.getByLabel('Search by name').fill('');
  await row.waitFor();
  await screenshot(page, 'workflows-list');

  await row.getByRole('link', { name: 'E2E flow' }).click();
  await page.waitForURL(`${origin}/workflow/${flowId}`);
  await page.getByRole('heading', { name: 'E2E flow' }).waitFor();
  const graph = page.locator('svg.graph');
  await graph.waitFor();
  assert.equal(await graph.locator('g.node').count(), 5, 'five nodes (the sticky note is not one)');
  assert.equal(await graph.locator('path.edge').count(), 3, 'three connections');
  assert.equal(await graph.locator('g.sticky').count(), 1);
  assert.equal(await graph.locator('g.node.disabled').count(), 1);
  assert.equal(await graph.locator('g.node.unsupported').count(), 0);
  // The published version's webhook, to call from anywhere.
  const urls = page.getByRole('region', { name: 'Production URLs' });
  await urls.getByText(`${origin}/webhook/e2e-flow`).waitFor();
  await urls.getByText('POST').waitFor();

  // Keyboard: Tab into the graph and open a node with Enter.
  await graph.locator('g.node[data-node="Prepare"]').focus();
  await page.keyboard.press('Enter');
  const panel = page.getByRole('complementary', { name: 'Node details' });
  await panel.getByRole('heading', { name: 'Prepare' }).waitFor();
  await panel.getByText('greeting').first().waitFor();
  await page.getByRole('button', { name: 'Zoom in' }).click();
  await screenshot(page, 'workflow-graph');
});

/** Presses Tab until `locator` has the focus (at most `max` times): proves it is reachable
 * from the keyboard in the page's order. */
async function tabTo(locator, max = 40) {
  for (let i = 0; i < max; i += 1) {
    await page.keyboard.press('Tab');
    if (await locator.evaluate((element) => element === document.activeElement)) return;
  }
  throw new Error(`not reached with ${max} presses of Tab`);
}

test('the Run button of a workflow with a Manual Trigger starts a manual execution and opens it', async () => {
  // Not published: a manual run runs the saved draft.
  const byHand = await publicApi('POST', '/workflows', ownerKey, {
    name: 'Run by hand',
    nodes: [
      { id: 'h1', name: 'Click', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} },
      { id: 'h2', name: 'Greet', type: 'n8n-nodes-base.set', typeVersion: 3.4, position: [240, 0],
        parameters: { mode: 'manual', assignments: { assignments: [{ id: 'g1', name: 'greeting', value: "={{ 'hello ' + $json.name }}", type: 'string' }] }, options: {} } },
    ],
    connections: { Click: { main: [[{ node: 'Greet', type: 'main', index: 0 }]] } },
    settings: { executionOrder: 'v1' },
    pinData: { Click: [{ json: { name: 'pinned Ada' } }] },
  });
  // A webhook without pinned data cannot run by hand here: no Run button.
  await page.goto(`${origin}/workflow/${flowId}`);
  await page.locator('svg.graph g.node').first().waitFor();
  assert.equal(await page.getByRole('button', { name: 'Run', exact: true }).count(), 0);
  // It is called at its production URL instead, from the page too.
  await page.getByRole('button', { name: `Call POST ${origin}/webhook/e2e-flow` }).click();
  await page.waitForURL(`${origin}/executions?workflowId=${flowId}`);
  await page.getByRole('row').filter({ hasText: 'E2E flow' }).getByText('Error').waitFor({ timeout: 15_000 });
  await screenshot(page, 'workflow-called-from-page');

  await page.goto(`${origin}/workflow/${byHand.id}`);
  await page.getByRole('heading', { name: 'Run by hand' }).waitFor();
  const run = page.getByRole('button', { name: 'Run', exact: true });
  await run.waitFor();
  await screenshot(page, 'workflow-run-button');
  // From the keyboard: Tab from the top of the page to the button, then Enter.
  await page.locator('#page-app h1').focus();
  await tabTo(run);
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/execution\/\d+$/, { timeout: 15_000 });
  const executionId = new URL(page.url()).pathname.split('/').pop();
  await page.locator('.meta').getByText('Success').waitFor({ timeout: 15_000 });
  await page.locator('.meta').getByText('manual', { exact: false }).waitFor();
  const stored = (await (await page.request.get(`${origin}/rest/executions/${executionId}`)).json()).data;
  assert.equal(stored.mode, 'manual');
  assert.equal(stored.workflowId, byHand.id);
  const graph = page.locator('svg.graph');
  for (const name of ['Click', 'Greet']) {
    const classes = await graph.locator(`g.node[data-node="${name}"]`).getAttribute('class');
    assert.ok(classes.includes('status-success'), `${name} ran: ${classes}`);
  }
  // The pinned item went through.
  await graph.locator('g.node[data-node="Greet"]').click();
  await page.getByRole('complementary', { name: 'Node details' }).getByRole('cell', { name: 'hello pinned Ada' }).waitFor();
  await screenshot(page, 'execution-manual-run');
  // The next steps start from the list, as after the first test.
  await page.goto(`${origin}/workflows`);
  await page.getByRole('heading', { name: 'Workflows' }).waitFor();
});

test('a webhook call shows up in the executions without a reload, coloured node by node', async () => {
  await page.getByRole('link', { name: 'Executions', exact: true }).click();
  await page.waitForURL(/\/executions$/);
  await page.getByRole('heading', { name: 'Executions' }).waitFor();
  // Counted once the list has loaded (the manual run of the step before is in it).
  await page.getByRole('row').filter({ hasText: 'Run by hand' }).waitFor();
  const before = await page.locator('table.executions tbody tr').count();

  const hook = await fetch(`${origin}/webhook/e2e-flow`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'Ada' }) });
  assert.equal(hook.status, 200, await hook.text());

  // The new run appears on its own (the list refreshes without a reload), newest first.
  await page.waitForFunction((n) => document.querySelectorAll('table.executions tbody tr').length === n, before + 1, { timeout: 15_000 });
  const row = page.getByRole('row').filter({ hasText: 'E2E flow' }).first();
  await row.getByText('Error').waitFor({ timeout: 15_000 });
  await screenshot(page, 'executions-list');

  await row.getByRole('link').first().click();
  await page.waitForURL(/\/execution\/\d+$/);
  failedExecution = new URL(page.url()).pathname.split('/').pop();
  const graph = page.locator('svg.graph');
  await graph.locator('g.node').first().waitFor();
  const stored = (await (await page.request.get(`${origin}/rest/executions/${failedExecution}`)).json()).data;
  const runData = stored.data.resultData.runData;
  for (const node of FLOW.nodes.filter((n) => n.type !== 'n8n-nodes-base.stickyNote')) {
    const runs = runData[node.name];
    const expected = !runs ? 'not-run' : (runs[runs.length - 1].error ? 'error' : 'success');
    const classes = await graph.locator(`g.node[data-node="${node.name}"]`).getAttribute('class');
    assert.ok(classes.includes(`status-${expected}`), `${node.name} is ${expected}: ${classes}`);
  }
  assert.ok(runData.Fail && !runData.After, 'Fail ran and failed, After did not run');

  const panel = page.getByRole('complementary', { name: 'Node details' });
  await panel.getByRole('heading', { name: 'Fail' }).waitFor();
  await panel.getByRole('alert').filter({ hasText: 'Deliberate failure after hello Ada' }).waitFor();
  await screenshot(page, 'execution-failed-node');

  await graph.locator('g.node[data-node="Prepare"]').click();
  await panel.getByRole('heading', { name: 'Prepare' }).waitFor();
  await panel.getByRole('cell', { name: 'hello Ada' }).waitFor();
  await panel.getByLabel('JSON').check();
  await panel.getByText('"greeting": "hello Ada"').waitFor();
  await screenshot(page, 'execution-node-output');
});

test('retry from the execution page creates an execution linked to the first', async () => {
  await page.getByRole('button', { name: 'Retry', exact: true }).click();
  await page.waitForURL((url) => /\/execution\/\d+$/.test(url.pathname) && !url.pathname.endsWith(`/${failedExecution}`), { timeout: 15_000 });
  const retried = new URL(page.url()).pathname.split('/').pop();
  await page.getByRole('link', { name: `#${failedExecution}` }).waitFor();
  const stored = (await (await page.request.get(`${origin}/rest/executions/${retried}`)).json()).data;
  assert.equal(stored.retryOf, failedExecution);
  assert.equal(stored.mode, 'retry');
  await screenshot(page, 'execution-retried');
});

test('the overview shows the insights summary and a chart of executions per day', async () => {
  await page.getByRole('link', { name: 'Overview' }).click();
  await page.waitForURL(`${origin}/overview`);
  const total = page.getByRole('group', { name: 'Production executions' });
  await total.locator('.figure-value').filter({ hasNotText: '—' }).waitFor();
  const summary = (await (await page.request.get(`${origin}/rest/insights/summary`)).json()).data;
  assert.equal(await total.locator('.figure-value').textContent(), String(summary.total.value));
  const chart = page.locator('svg.chart');
  await chart.waitFor();
  assert.equal(await chart.locator('g.day').count(), 7);
  assert.ok(await chart.locator('rect.bad').count() >= 1, 'today has failed runs');
  await screenshot(page, 'overview-7-days');
  await page.getByLabel('Period').selectOption('30');
  await page.waitForFunction(() => document.querySelectorAll('svg.chart g.day').length === 30);
  await screenshot(page, 'overview-30-days');
});

test('on a phone-sized screen the pages fit without sideways scrolling and load without layout shift', async () => {
  await page.setViewportSize(PHONE);
  const overflows = [];
  const shifts = [];
  const names = [];
  for (const route of ['/workflows', `/workflow/${flowId}`, '/executions', `/execution/${failedExecution}`, '/overview']) {
    await page.goto(`${origin}${route}`);
    await page.locator('#page-app h1').waitFor();
    await page.waitForLoadState('networkidle');
    overflows.push([route, await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)]);
    if (/^\/(workflow|execution)\//.test(route)) {
      // The graph starts at a scale where node names can be read (the whole graph would not).
      const name = page.locator('svg.graph g.node .name').first();
      await name.waitFor();
      names.push([route, await name.evaluate((text) => text.getBoundingClientRect().height)]);
    }
    shifts.push([route, await page.evaluate(() => window.e2eLayoutShift)]);
    await screenshot(page, `phone-${route.split('/')[1]}${route.split('/').length > 2 ? '-page' : ''}`);
  }
  await page.setViewportSize(DESKTOP);
  console.log(`layout shift while loading, phone width: ${shifts.map(([route, cls]) => `${route} ${cls.toFixed(3)}`).join(', ')}`);
  for (const [route, overflow] of overflows) assert.ok(overflow <= 0, `${route} is ${overflow}px wider than the screen`);
  for (const [route, cls] of shifts) assert.ok(cls < 0.1, `${route} shifted its layout by ${cls} while loading`);
  console.log(`node name height in the graph, phone width: ${names.map(([route, px]) => `${route} ${px.toFixed(1)} px`).join(', ')}`);
  for (const [route, px] of names) assert.ok(px >= 9, `${route}: node names drawn ${px} px high`);
});

test('a 200-node workflow is drawn quickly', async () => {
  const nodes = [];
  const connections = {};
  for (let i = 0; i < 200; i += 1) {
    nodes.push({ id: `n${i}`, name: `Step ${i}`, type: i === 0 ? 'n8n-nodes-base.manualTrigger' : 'n8n-nodes-base.noOp', typeVersion: 1, position: [(i % 20) * 240, Math.floor(i / 20) * 160], parameters: {} });
    if (i > 0) connections[`Step ${i - 1}`] = { main: [[{ node: `Step ${i}`, type: 'main', index: 0 }]] };
  }
  const big = await publicApi('POST', '/workflows', ownerKey, { name: 'Two hundred nodes', nodes, connections, settings: {} });
  await page.goto(`${origin}/workflows`);
  const link = page.getByRole('link', { name: 'Two hundred nodes' });
  await link.waitFor();
  await page.evaluate(() => { window.e2eClickedAt = performance.now(); });
  await link.click();
  const frame = page.locator('.graph-frame[data-paint-ms]');
  await frame.waitFor();
  const clickToPaint = await page.evaluate(() => performance.now() - window.e2eClickedAt);
  const drawToPaint = Number(await frame.getAttribute('data-paint-ms'));
  const draw = Number(await frame.getAttribute('data-draw-ms'));
  assert.equal(await page.locator('svg.graph g.node').count(), 200);
  assert.equal(await page.locator('svg.graph path.edge').count(), 199);
  await screenshot(page, 'workflow-200-nodes');
  console.log(`render timing, 200 nodes: building the SVG ${draw.toFixed(1)} ms, to first paint ${drawToPaint.toFixed(1)} ms; from the click (with the /rest request) ${clickToPaint.toFixed(1)} ms`);
  assert.ok(drawToPaint < 300, `the graph took ${drawToPaint} ms to paint`);
  assert.ok(big.id);
});

test('a member sees neither the workflows nor the executions of another project', async () => {
  await page.goto(`${origin}/settings/api`);
  const invited = await page.request.post(`${origin}/rest/invitations`, { data: [{ email: 'second@example.com', role: 'global:member' }] });
  assert.equal(invited.status(), 200, await invited.text());
  const link = (await invited.json()).data[0].user.inviteAcceptUrl;
  const token = new URL(link).searchParams.get('token');
  const accepted = await fetch(`${origin}/rest/invitations/accept`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ token, firstName: 'Sam', lastName: 'Second', password: 'Second-Passw0rd' }),
  });
  assert.equal(accepted.status, 200, await accepted.text());

  await signInAs('second@example.com', 'Second-Passw0rd');
  const memberKey = await keyOfSignedInUser('member key');
  await publicApi('POST', '/workflows', memberKey, { name: 'Member flow', nodes: FLOW.nodes.slice(0, 1), connections: {}, settings: {} });
  await page.getByRole('link', { name: 'Workflows' }).click();
  await page.getByRole('row').filter({ hasText: 'Member flow' }).waitFor();
  assert.equal(await page.getByRole('row').filter({ hasText: 'E2E flow' }).count(), 0);
  assert.equal(await page.locator('table.workflows tbody tr').count(), 1);
  await screenshot(page, 'member-workflows');
  await page.getByRole('link', { name: 'Executions', exact: true }).click();
  await page.getByText('No executions yet.').waitFor();
  await page.goto(`${origin}/workflow/${flowId}`);
  await page.locator('.graph-frame').getByText(`Workflow with ID "${flowId}" not found.`).waitFor();
  await page.goto(`${origin}/execution/${failedExecution}`);
  await page.locator('.graph-frame').getByText('Not Found').waitFor();
  await page.goto(`${origin}/overview`);
  await page.getByText('Insights are shown to owners and admins of this instance.').waitFor();
  await screenshot(page, 'member-overview');
  await signInAs(EMAIL, PASSWORD);
});

test('a run in progress refreshes the list on its own and can be stopped from its page', async () => {
  const waiting = await publicApi('POST', '/workflows', ownerKey, {
    name: 'Waiting flow',
    nodes: [
      { id: 'w1', name: 'Webhook', type: 'n8n-nodes-base.webhook', typeVersion: 2, position: [0, 0], webhookId: '0f3f9a57-8f0c-4c8e-b1a4-1c2d3e4f5a6b',
        parameters: { httpMethod: 'POST', path: 'e2e-wait', responseMode: 'onReceived', options: {} } },
      { id: 'w2', name: 'Wait a minute', type: 'n8n-nodes-base.wait', typeVersion: 1.1, position: [240, 0], webhookId: '5b6c7d8e-9f0a-4b1c-8d2e-3f4a5b6c7d8e',
        parameters: { resume: 'timeInterval', amount: 1, unit: 'minutes' } },
    ],
    connections: { Webhook: { main: [[{ node: 'Wait a minute', type: 'main', index: 0 }]] } },
    settings: { executionOrder: 'v1' },
  });
  await publicApi('POST', `/workflows/${waiting.id}/activate`, ownerKey);
  await page.goto(`${origin}/executions?workflowId=${waiting.id}`);
  await page.getByText('No executions yet.').waitFor();
  const hook = await fetch(`${origin}/webhook/e2e-wait`, { method: 'POST' });
  assert.equal(hook.status, 200, await hook.text());

  const row = page.getByRole('row').filter({ hasText: 'Waiting flow' });
  await row.locator('.badge.status').filter({ hasText: /^(Waiting|Running)$/ }).waitFor({ timeout: 15_000 });
  await page.getByText('Refreshing while executions run…').waitFor();
  await screenshot(page, 'execution-in-progress');
  await row.getByRole('link').first().click();
  await page.getByRole('button', { name: 'Stop' }).click();
  await page.getByText('Execution stopped.').waitFor();
  await page.locator('.meta').getByText('Canceled').waitFor();
  assert.equal(await page.getByRole('button', { name: 'Stop' }).count(), 0);
  await screenshot(page, 'execution-stopped');
  await page.goBack();
  await page.getByRole('row').filter({ hasText: 'Waiting flow' }).locator('.badge.status').filter({ hasText: 'Canceled' }).waitFor({ timeout: 15_000 });
  await publicApi('POST', `/workflows/${waiting.id}/deactivate`, ownerKey);
});

test('nothing was loaded from another host, and there was no console error', () => {
  assert.deepEqual(problems, []);
});
