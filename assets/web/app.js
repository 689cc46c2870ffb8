// The web page's script: client-side routing, the calls to /rest, and the views (owner
// set-up, sign-in, invitation sign-up, Settings > n8n API, Settings > Users).
//
// Rules kept throughout: no markup is ever built from strings (text goes in as text nodes,
// so nothing a user typed can become HTML), raw keys live only in the DOM of the dialog
// that shows them and are cleared when it closes (never in any browser storage),
// and every request with a body says it is JSON (the server refuses anything else).
'use strict';

(() => {
  const BASE = document.querySelector('meta[name="flowgate-base-path"]').content;
  const KEYS_PER_PAGE = 10;
  const ADMIN_ROLES = ['global:owner', 'global:admin'];
  const ROLE_NAMES = { 'global:owner': 'Owner', 'global:admin': 'Admin', 'global:member': 'Member' };

  const state = {
    settings: null,
    user: undefined, // undefined: not asked yet; null: signed out
    next: null, // where to go after signing in
    scopes: null,
    keys: { skip: 0, ownership: 'mine', label: '', sortBy: 'createdAt:desc', total: 0, count: 0 },
    editing: null, // the key being edited, or null when creating
  };

  const $ = (selector, root = document) => root.querySelector(selector);
  const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));

  /** Builds an element; strings become text nodes, never markup. */
  function h(tag, props = {}, ...children) {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(props)) {
      if (value === null || value === undefined || value === false) continue;
      if (name === 'class') element.className = value;
      else if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
      else if (name === 'hidden') element.hidden = true;
      else element.setAttribute(name, value === true ? '' : String(value));
    }
    for (const child of children.flat()) {
      if (child !== null && child !== undefined && child !== false) element.append(child);
    }
    return element;
  }

  // ---- /rest ----------------------------------------------------------------------------

  class RestError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  async function rest(method, path, body) {
    const init = { method, headers: { Accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store' };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(`${BASE}/rest${path}`, init);
    } catch {
      throw new RestError(0, 'Could not reach the server. Check your connection and try again.');
    }
    let json = null;
    try {
      json = await response.json();
    } catch {
      json = null;
    }
    if (!response.ok) {
      const message = json && typeof json.message === 'string' && json.message
        ? json.message
        : `The server answered ${response.status}${response.statusText ? ` ${response.statusText}` : ''}.`;
      throw new RestError(response.status, message);
    }
    return json ? json.data : null;
  }

  // ---- feedback -------------------------------------------------------------------------

  let toastTimer = null;
  function toast(message, isError = false) {
    const box = $('#status');
    box.setAttribute('role', isError ? 'alert' : 'status');
    box.classList.toggle('error', isError);
    box.textContent = message;
    box.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { box.hidden = true; }, isError ? 8000 : 4000);
  }

  function formError(form, message) {
    const box = $('.form-error', form);
    box.textContent = message || '';
    box.hidden = !message;
  }

  // A form's error message stays until the user changes something.
  for (const form of $$('form')) form.addEventListener('input', () => formError(form, ''));

  /** Runs a form's action with its submit button disabled; shows a failure in the form. */
  async function busy(form, action) {
    const buttons = $$('button[type="submit"]', form);
    buttons.forEach((b) => { b.disabled = true; });
    formError(form, '');
    try {
      await action();
    } catch (error) {
      if (error instanceof RestError && error.status === 401 && state.user) {
        signedOut();
        return;
      }
      formError(form, error.message);
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  }

  /** A failure outside a form: a 401 means the session ended, anything else is shown. */
  function failed(error) {
    if (error instanceof RestError && error.status === 401) {
      signedOut();
      return;
    }
    toast(error.message, true);
  }

  function signedOut() {
    state.user = null;
    state.next = currentRoute().startsWith('/settings') ? currentRoute() : null;
    toast('Your session has ended. Please sign in again.', true);
    go('/signin', true);
  }

  // ---- dates ----------------------------------------------------------------------------

  const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
  const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

  function formatDate(value) {
    if (value === null || value === undefined) return null;
    const date = typeof value === 'number' ? new Date(value * 1000) : new Date(value);
    return Number.isNaN(date.getTime()) ? String(value) : dateFormat.format(date);
  }

  function timeElement(value, withTime = false) {
    const date = typeof value === 'number' ? new Date(value * 1000) : new Date(value);
    if (Number.isNaN(date.getTime())) return String(value);
    return h('time', { datetime: date.toISOString(), title: dateTimeFormat.format(date) },
      (withTime ? dateTimeFormat : dateFormat).format(date));
  }

  // ---- routing --------------------------------------------------------------------------

  /** The path inside the app, without N8N_PATH (the page may be served with or without it). */
  function currentRoute() {
    let path = location.pathname;
    if (BASE && (path === BASE || path.startsWith(`${BASE}/`))) path = path.slice(BASE.length);
    return path.replace(/\/+$/, '') || '/';
  }

  function go(path, replace = false) {
    history[replace ? 'replaceState' : 'pushState'](null, '', BASE + path);
    render(true);
  }

  const VIEWS = ['view-loading', 'view-setup', 'view-signin', 'view-signup', 'view-settings'];

  function showView(id, title, focus) {
    for (const view of VIEWS) $(`#${view}`).hidden = view !== id;
    document.title = `${title} - flowgate`;
    if (focus) {
      const target = $(`#${id} input:not([type=hidden])`) || $(`#${id} h1`);
      if (target) target.focus();
    }
  }

  async function currentUser() {
    try {
      return await rest('GET', '/login');
    } catch (error) {
      if (error instanceof RestError && error.status === 401) return null;
      throw error;
    }
  }

  const isAdmin = () => Boolean(state.user && ADMIN_ROLES.includes(state.user.role));

  async function render(navigated = false) {
    try {
      const route = currentRoute();
      if (!state.settings) state.settings = await rest('GET', '/settings');
      applyPasswordRules();
      if (route === '/signup') {
        showSignup(navigated);
        return;
      }
      if (!state.settings.userManagement.isInstanceOwnerSetUp) {
        if (route === '/setup') showView('view-setup', 'Set up owner account', navigated);
        else go('/setup', true);
        return;
      }
      if (state.user === undefined) state.user = await currentUser();
      if (!state.user) {
        if (route === '/signin') {
          showView('view-signin', 'Sign in', navigated);
        } else {
          if (route.startsWith('/settings')) state.next = route;
          go('/signin', true);
        }
        return;
      }
      if (route === '/settings/users') {
        if (!isAdmin()) {
          go('/settings/api', true);
          return;
        }
        showSettings('users', navigated);
        return;
      }
      if (route !== '/settings/api') {
        const next = state.next;
        state.next = null;
        go(next || '/settings/api', true);
        return;
      }
      showSettings('api', navigated);
    } catch (error) {
      showView('view-loading', 'Error', false);
      $('#view-loading').textContent = error.message;
    }
  }

  // Links inside the app change the view without a page load.
  document.addEventListener('click', (event) => {
    const link = event.target.closest('a[data-nav]');
    if (!link || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    const path = new URL(link.href).pathname.slice(BASE.length);
    if (path !== currentRoute()) go(path);
  });
  window.addEventListener('popstate', () => render(true));

  // ---- password rules -------------------------------------------------------------------

  function passwordChecks(password) {
    const min = state.settings?.passwordMinLength || 8;
    const length = Array.from(password).length;
    return {
      length: length >= min && length <= 64,
      number: /[0-9]/.test(password),
      upper: /\p{Lu}/u.test(password),
    };
  }

  function passwordProblem(password) {
    const checks = passwordChecks(password);
    const min = state.settings?.passwordMinLength || 8;
    if (!checks.length) return min === 8 ? 'Password must be 8 to 64 characters long.' : `Password must be ${min} to 64 characters long.`;
    if (!checks.number) return 'Password must contain at least 1 number.';
    if (!checks.upper) return 'Password must contain at least 1 uppercase letter.';
    return null;
  }

  function applyPasswordRules() {
    const min = String(state.settings?.passwordMinLength || 8);
    $$('.min-length').forEach((span) => { span.textContent = min; });
  }

  for (const list of $$('[data-password-rules]')) {
    const input = document.getElementById(list.dataset.passwordRules);
    input.addEventListener('input', () => {
      const checks = passwordChecks(input.value);
      for (const item of $$('li', list)) {
        const met = checks[item.dataset.rule];
        item.classList.toggle('met', met);
        const note = $('.visually-hidden', item) || item.appendChild(h('span', { class: 'visually-hidden' }));
        note.textContent = met ? ' (met)' : ' (not met)';
      }
    });
  }

  /** Checks that every required field of a form is filled; marks and focuses the first gap. */
  function requireFields(form) {
    for (const input of $$('input[required]', form)) {
      const empty = !input.value.trim();
      input.setAttribute('aria-invalid', String(empty));
      if (empty) {
        input.focus();
        return `${$(`label[for="${input.id}"]`).textContent} is required.`;
      }
    }
    return null;
  }

  // ---- owner set-up, sign-in, sign-up ---------------------------------------------------

  $('#setup-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    busy(form, async () => {
      const missing = requireFields(form);
      if (missing) throw new Error(missing);
      const password = $('#setup-password').value;
      const problem = passwordProblem(password);
      if (problem) throw new Error(problem);
      state.user = await rest('POST', '/owner/setup', {
        email: $('#setup-email').value.trim(),
        firstName: $('#setup-first').value.trim(),
        lastName: $('#setup-last').value.trim(),
        password,
      });
      state.settings.userManagement.isInstanceOwnerSetUp = true;
      form.reset();
      go('/settings/api');
    });
  });

  $('#signin-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    busy(form, async () => {
      const missing = requireFields(form);
      if (missing) throw new Error(missing);
      state.user = await rest('POST', '/login', {
        emailOrLdapLoginId: $('#signin-email').value.trim(),
        password: $('#signin-password').value,
      });
      form.reset();
      const next = state.next;
      state.next = null;
      go(next || '/settings/api');
    });
  });

  let signupToken = null;

  async function showSignup(navigated) {
    const form = $('#signup-form');
    showView('view-signup', 'Set up your account', navigated);
    signupToken = new URLSearchParams(location.search).get('token');
    $('#signup-inviter').textContent = '';
    formError(form, '');
    $$('input, button', form).forEach((el) => { el.disabled = true; });
    try {
      if (!signupToken) throw new RestError(400, 'Token is required');
      const query = new URLSearchParams({ token: signupToken });
      const data = await rest('GET', `/resolve-signup-token?${query}`);
      const inviter = [data?.inviter?.firstName, data?.inviter?.lastName].filter(Boolean).join(' ');
      $('#signup-inviter').textContent = inviter
        ? `${inviter} has invited you to flowgate. Choose your name and a password.`
        : 'You have been invited to flowgate. Choose your name and a password.';
      $$('input, button', form).forEach((el) => { el.disabled = false; });
      if (navigated) $('#signup-first').focus();
    } catch (error) {
      formError(form, error.message);
    }
  }

  $('#signup-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    busy(form, async () => {
      const missing = requireFields(form);
      if (missing) throw new Error(missing);
      const password = $('#signup-password').value;
      const problem = passwordProblem(password);
      if (problem) throw new Error(problem);
      state.user = await rest('POST', '/invitations/accept', {
        token: signupToken,
        firstName: $('#signup-first').value.trim(),
        lastName: $('#signup-last').value.trim(),
        password,
      });
      form.reset();
      signupToken = null;
      go('/settings/api');
    });
  });

  $('#signout').addEventListener('click', async () => {
    try {
      await rest('POST', '/logout', {});
    } catch (error) {
      toast(error.message, true);
      return;
    }
    state.user = null;
    state.next = null;
    go('/signin');
  });

  // ---- settings shell -------------------------------------------------------------------

  function showSettings(page, navigated) {
    const user = state.user;
    const name = [user.firstName, user.lastName].filter(Boolean).join(' ');
    $('#me').textContent = name ? `${name} (${user.email})` : user.email;
    $('#nav-users-item').hidden = !isAdmin();
    for (const link of $$('.sidebar a[data-nav]')) {
      if (link.dataset.nav === page) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
    $('#page-api').hidden = page !== 'api';
    $('#page-users').hidden = page !== 'users';
    showView('view-settings', page === 'api' ? 'n8n API' : 'Users', false);
    if (navigated) $(`#page-${page} h1`).focus();
    if (page === 'api') showApiPage();
    else loadUsers();
  }
  $$('.page h1').forEach((heading) => heading.setAttribute('tabindex', '-1'));

  // ---- Settings > n8n API ---------------------------------------------------------------

  function showApiPage() {
    const enabled = state.settings.publicApi?.enabled !== false;
    $('#api-disabled').hidden = enabled;
    $('#create-key').hidden = !enabled;
    $('#keys-tools').hidden = !enabled;
    $('#api-docs-link').href = `${BASE}/${state.settings.publicApi?.path || 'api'}/v1/docs`;
    $('#ownership').hidden = !isAdmin();
    if (!isAdmin()) state.keys.ownership = 'mine';
    if (enabled) loadKeys();
    else {
      $('#keys-table').hidden = true;
      $('#keys-empty').hidden = true;
      $('#keys-pager').hidden = true;
    }
  }

  let keysRequest = 0;

  async function loadKeys() {
    const keys = state.keys;
    const query = new URLSearchParams({ take: String(KEYS_PER_PAGE), skip: String(keys.skip), sortBy: keys.sortBy });
    if (keys.ownership === 'all') query.set('ownership', 'all');
    if (keys.label) query.set('label', keys.label);
    const request = ++keysRequest;
    let data;
    try {
      data = await rest('GET', `/api-keys?${query}`);
    } catch (error) {
      failed(error);
      return;
    }
    if (request !== keysRequest) return; // a newer search or page replaced this one
    const all = keys.ownership === 'all';
    keys.count = all ? data.counts.all : data.counts.mine;
    keys.total = all ? data.totals.all : data.totals.mine;
    if (data.items.length === 0 && keys.skip > 0) {
      keys.skip = Math.max(0, keys.skip - KEYS_PER_PAGE);
      loadKeys();
      return;
    }
    renderKeys(data.items, all);
  }

  function renderKeys(items, showOwner) {
    const keys = state.keys;
    const empty = items.length === 0;
    $('#keys-table').hidden = empty;
    $('#keys-empty').hidden = !empty;
    const emptyText = $('#keys-empty');
    emptyText.replaceChildren(
      h('p', {}, h('strong', {}, keys.label ? 'No API keys match this label.' : 'No API keys yet.')),
      h('p', { class: 'muted' }, keys.label ? 'Try another search.' : 'Create one to call the API from scripts, CI or other tools.'),
    );
    $('#keys-table thead .owner-col').hidden = !showOwner;
    $('#keys-body').replaceChildren(...items.map((key) => keyRow(key, showOwner)));
    const pager = $('#keys-pager');
    pager.hidden = keys.count <= KEYS_PER_PAGE;
    $('#keys-range').textContent = `${keys.skip + 1}-${keys.skip + items.length} of ${keys.count}`;
    $('#keys-prev').disabled = keys.skip === 0;
    $('#keys-next').disabled = keys.skip + items.length >= keys.count;
  }

  function keyRow(key, showOwner) {
    const now = Date.now() / 1000;
    const expired = key.expiresAt !== null && key.expiresAt !== undefined && key.expiresAt <= now;
    const mine = key.userId === state.user.id || key.owner?.id === state.user.id;
    const shown = key.scopes.slice(0, 3);
    const ownerName = [key.owner?.firstName, key.owner?.lastName].filter(Boolean).join(' ');
    let expires;
    if (key.expiresAt === null || key.expiresAt === undefined) expires = 'Never';
    else if (expired) expires = h('span', {}, h('span', { class: 'badge expired' }, 'Expired'), ' ', timeElement(key.expiresAt));
    else expires = timeElement(key.expiresAt);
    return h('tr', { 'data-key-id': key.id },
      h('td', { class: 'label-cell', 'data-label': 'Label' }, key.label),
      h('td', { class: 'key-cell', 'data-label': 'Key' }, key.apiKey),
      h('td', { 'data-label': 'Scopes' },
        h('span', { class: 'scope-list', title: key.scopes.join(', ') },
          shown.map((scope) => h('span', { class: 'badge' }, scope)),
          key.scopes.length > shown.length ? h('span', { class: 'badge' }, `+${key.scopes.length - shown.length} more`) : null)),
      h('td', { class: 'owner-col', 'data-label': 'Owner', hidden: !showOwner },
        ownerName || key.owner?.email || '', ownerName ? h('span', { class: 'sub' }, key.owner.email) : null),
      h('td', { 'data-label': 'Created' }, timeElement(key.createdAt)),
      h('td', { 'data-label': 'Last used' }, key.lastUsedAt ? timeElement(key.lastUsedAt, true) : 'Never'),
      h('td', { 'data-label': 'Expires', class: expired ? 'expired' : null }, expires),
      h('td', { class: 'actions-cell' },
        mine ? h('button', { type: 'button', class: 'ghost small', 'aria-label': `Edit ${key.label}`, onclick: () => openKeyDialog(key) }, 'Edit') : null,
        mine && !expired ? h('button', { type: 'button', class: 'ghost small', 'aria-label': `Rotate ${key.label}`, onclick: () => rotateKey(key) }, 'Rotate') : null,
        h('button', { type: 'button', class: 'ghost small', 'aria-label': `Delete ${key.label}`, onclick: () => deleteKey(key) }, 'Delete')));
  }

  $('#keys-prev').addEventListener('click', () => {
    state.keys.skip = Math.max(0, state.keys.skip - KEYS_PER_PAGE);
    loadKeys();
  });
  $('#keys-next').addEventListener('click', () => {
    state.keys.skip += KEYS_PER_PAGE;
    loadKeys();
  });
  $('#keys-sort').addEventListener('change', (event) => {
    state.keys.sortBy = event.target.value;
    state.keys.skip = 0;
    loadKeys();
  });
  for (const radio of $$('input[name="ownership"]')) {
    radio.addEventListener('change', () => {
      state.keys.ownership = radio.value;
      state.keys.skip = 0;
      loadKeys();
    });
  }
  let searchTimer = null;
  $('#keys-search').addEventListener('input', (event) => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      state.keys.label = event.target.value.trim();
      state.keys.skip = 0;
      loadKeys();
    }, 250);
  });

  // ---- dialogs --------------------------------------------------------------------------

  const openers = new WeakMap();

  function openDialog(dialog) {
    openers.set(dialog, document.activeElement);
    dialog.showModal();
  }

  for (const dialog of $$('dialog')) {
    dialog.addEventListener('close', () => {
      const opener = openers.get(dialog);
      if (opener && document.contains(opener)) opener.focus();
    });
    for (const button of $$('[data-close]', dialog)) button.addEventListener('click', () => dialog.close());
  }

  /** Asks before something that cannot be undone; resolves true when confirmed. */
  function confirmDialog({ title, text, ok }) {
    const dialog = $('#confirm-dialog');
    $('#confirm-title').textContent = title;
    $('#confirm-text').textContent = text;
    $('#confirm-ok').textContent = ok;
    return new Promise((resolve) => {
      const confirm = () => { dialog.returnValue = 'confirm'; dialog.close(); };
      $('#confirm-ok').addEventListener('click', confirm, { once: true });
      dialog.addEventListener('close', () => {
        $('#confirm-ok').removeEventListener('click', confirm);
        resolve(dialog.returnValue === 'confirm');
      }, { once: true });
      dialog.returnValue = '';
      openDialog(dialog);
    });
  }

  /** Shows a secret (a raw key or an invite link) with a Copy button. */
  function showSecret({ title, warning, label, value }) {
    $('#secret-title').textContent = title;
    $('#secret-warning').textContent = warning;
    $('#secret-label').textContent = label;
    $('#secret-value').value = value;
    $('#secret-copied').textContent = '';
    openDialog($('#secret-dialog'));
    $('#secret-value').select();
  }

  // The raw key must not outlive the dialog that shows it: cleared when the dialog closes
  // (Escape included), and at once when Done is pressed, since `close` fires a task later.
  const forgetSecret = () => {
    $('#secret-value').value = '';
    $('#secret-copied').textContent = '';
  };
  $('#secret-dialog').addEventListener('close', forgetSecret);
  $('#secret-dialog [data-close]').addEventListener('click', forgetSecret);

  /** Copies text: the clipboard API where the browser allows it, else the old selection copy. */
  async function copyText(text, input) {
    try {
      if (!navigator.clipboard || !window.isSecureContext) throw new Error('no clipboard');
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      if (input) {
        input.focus();
        input.select();
        try {
          return document.execCommand('copy');
        } catch {
          return false;
        }
      }
      return false;
    }
  }

  $('#secret-copy').addEventListener('click', async () => {
    const input = $('#secret-value');
    const copied = await copyText(input.value, input);
    if (!copied) {
      input.focus();
      input.select();
    }
    $('#secret-copied').textContent = copied ? 'Copied to clipboard.' : 'Selected: press Ctrl+C (or Cmd+C) to copy.';
  });

  // ---- create, edit, rotate, delete a key -----------------------------------------------

  async function loadScopes() {
    if (!state.scopes) state.scopes = await rest('GET', '/api-keys/scopes');
    return state.scopes;
  }

  function renderScopes(selected) {
    const groups = new Map();
    for (const scope of state.scopes) {
      const resource = scope.split(':')[0];
      if (!groups.has(resource)) groups.set(resource, []);
      groups.get(resource).push(scope);
    }
    const container = $('#key-scopes');
    container.replaceChildren(...Array.from(groups, ([resource, scopes]) => h('fieldset', { class: 'scope-group' },
      h('legend', {}, resource),
      scopes.map((scope) => h('label', {},
        h('input', { type: 'checkbox', name: 'scope', value: scope, checked: selected.has(scope), onchange: countScopes }),
        h('span', { 'aria-hidden': 'true' }, scope.slice(resource.length + 1)),
        h('span', { class: 'visually-hidden' }, scope))))));
    container.scrollTop = 0;
    countScopes();
  }

  function selectedScopes() {
    return $$('#key-scopes input[name="scope"]:checked').map((input) => input.value);
  }

  function countScopes() {
    $('#key-scopes-count').textContent = `${selectedScopes().length} of ${state.scopes.length} selected`;
  }

  $('#scopes-all').addEventListener('click', () => {
    $$('#key-scopes input[name="scope"]').forEach((input) => { input.checked = true; });
    countScopes();
  });
  $('#scopes-none').addEventListener('click', () => {
    $$('#key-scopes input[name="scope"]').forEach((input) => { input.checked = false; });
    countScopes();
  });

  function isoDate(date) {
    const pad = (n) => String(n).padStart(2, '0');
    return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
  }

  /** The chosen expiry in Unix seconds, null for never, or an Error to show. */
  function chosenExpiry() {
    const choice = $('#key-expiry').value;
    if (choice === 'never') return null;
    if (choice === 'custom') {
      const value = $('#key-expiry-date').value;
      if (!value) return new Error('Choose an expiration date.');
      const [year, month, day] = value.split('-').map(Number);
      const at = new Date(year, month - 1, day).getTime() / 1000;
      if (at <= Date.now() / 1000) return new Error('Expiration date must be in the future.');
      return Math.floor(at);
    }
    return Math.floor(Date.now() / 1000) + Number(choice) * 86400;
  }

  function updateExpiryHint() {
    const custom = $('#key-expiry').value === 'custom';
    $('#key-expiry-date').hidden = !custom;
    const expiry = chosenExpiry();
    let hint = '';
    if (expiry === null) hint = 'The API key will never expire.';
    else if (typeof expiry === 'number') hint = `The API key will expire on ${formatDate(expiry)}.`;
    $('#key-expiry-hint').textContent = hint;
  }
  $('#key-expiry').addEventListener('change', updateExpiryHint);
  $('#key-expiry-date').addEventListener('input', updateExpiryHint);

  async function openKeyDialog(key) {
    const form = $('#key-form');
    try {
      await loadScopes();
    } catch (error) {
      failed(error);
      return;
    }
    state.editing = key || null;
    form.reset();
    formError(form, '');
    $('#key-label').removeAttribute('aria-invalid');
    $('#key-dialog-title').textContent = key ? 'Edit API Key' : 'Create API Key';
    $('#key-label').value = key ? key.label : '';
    $('#key-expiry-field').hidden = Boolean(key);
    const tomorrow = new Date();
    tomorrow.setDate(tomorrow.getDate() + 1);
    $('#key-expiry-date').min = isoDate(tomorrow);
    $('#key-expiry-date').value = '';
    updateExpiryHint();
    renderScopes(new Set(key ? key.scopes : []));
    openDialog($('#key-dialog'));
    $('#key-label').focus();
  }

  $('#create-key').addEventListener('click', () => openKeyDialog(null));

  $('#key-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    busy(form, async () => {
      const label = $('#key-label').value.trim();
      $('#key-label').setAttribute('aria-invalid', String(!label));
      if (!label) {
        $('#key-label').focus();
        throw new Error('Label is required.');
      }
      const scopes = selectedScopes();
      if (scopes.length === 0) throw new Error('Select at least one scope.');
      const editing = state.editing;
      if (editing) {
        await rest('PATCH', `/api-keys/${encodeURIComponent(editing.id)}`, { label, scopes });
        $('#key-dialog').close();
        toast('API key updated.');
      } else {
        const expiresAt = chosenExpiry();
        if (expiresAt instanceof Error) throw expiresAt;
        const created = await rest('POST', '/api-keys', { label, scopes, expiresAt });
        $('#key-dialog').close();
        showSecret({
          title: 'API Key Created',
          warning: 'Make sure to copy your API key now as you will not be able to see this again.',
          label: 'API key',
          value: created.rawApiKey,
        });
      }
      loadKeys();
    });
  });

  async function rotateKey(key) {
    const ok = await confirmDialog({
      title: 'Rotate API Key',
      text: `A new secret replaces the one of "${key.label}". Anything still using the current key stops working at once.`,
      ok: 'Rotate key',
    });
    if (!ok) return;
    try {
      const rotated = await rest('POST', `/api-keys/${encodeURIComponent(key.id)}/rotate`);
      showSecret({
        title: 'API Key Rotated',
        warning: 'Make sure to copy your new API key now as you will not be able to see this again.',
        label: 'API key',
        value: rotated.rawApiKey,
      });
      loadKeys();
    } catch (error) {
      failed(error);
    }
  }

  async function deleteKey(key) {
    const ok = await confirmDialog({
      title: 'Delete API Key',
      text: `Are you sure you want to delete "${key.label}"? Any application using this API key will no longer have access to n8n. This cannot be undone.`,
      ok: 'Delete Forever',
    });
    if (!ok) return;
    try {
      await rest('DELETE', `/api-keys/${encodeURIComponent(key.id)}`);
      toast('API key deleted.');
      loadKeys();
    } catch (error) {
      failed(error);
    }
  }

  // ---- Settings > Users -----------------------------------------------------------------

  async function loadUsers() {
    let data;
    try {
      data = await rest('GET', '/users');
    } catch (error) {
      if (error instanceof RestError && error.status === 404) {
        $('#users-unavailable').hidden = false;
        $('#users-table').hidden = true;
        $('#invite-user').hidden = true;
        return;
      }
      failed(error);
      return;
    }
    $('#users-unavailable').hidden = true;
    $('#invite-user').hidden = false;
    $('#users-table').hidden = false;
    const items = Array.isArray(data) ? data : data.items;
    $('#users-body').replaceChildren(...items.map(userRow));
  }

  function userRow(user) {
    const name = [user.firstName, user.lastName].filter(Boolean).join(' ');
    const self = user.id === state.user.id;
    const owner = user.isOwner || user.role === 'global:owner';
    let role;
    if (owner || self) {
      role = ROLE_NAMES[user.role] || user.role;
    } else {
      const select = h('select', { class: 'role-select', 'aria-label': `Role of ${user.email}` },
        ['global:member', 'global:admin'].map((value) => h('option', { value, selected: user.role === value }, ROLE_NAMES[value])));
      if (!['global:member', 'global:admin'].includes(user.role)) {
        select.prepend(h('option', { value: user.role, selected: true, disabled: true }, user.role));
      }
      select.addEventListener('change', () => changeRole(user, select));
      role = select;
    }
    return h('tr', { 'data-user-id': user.id },
      h('td', { class: 'label-cell', 'data-label': 'User' },
        name || user.email, self ? ' (you)' : null, name ? h('span', { class: 'sub' }, user.email) : null),
      h('td', { 'data-label': 'Role' }, role),
      h('td', { 'data-label': 'Status' }, user.isPending ? h('span', { class: 'badge pending' }, 'Pending') : 'Active'),
      h('td', { class: 'actions-cell' },
        user.isPending && user.inviteAcceptUrl
          ? h('button', { type: 'button', class: 'ghost small', 'aria-label': `Copy invite link of ${user.email}`, onclick: () => copyInvite(user) }, 'Copy invite link')
          : null,
        owner || self ? null
          : h('button', { type: 'button', class: 'ghost small', 'aria-label': `Delete ${user.email}`, onclick: () => deleteUser(user) }, 'Delete')));
  }

  async function changeRole(user, select) {
    const previous = user.role;
    try {
      await rest('PATCH', `/users/${encodeURIComponent(user.id)}/role`, { newRoleName: select.value });
      user.role = select.value;
      toast(`${user.email} is now ${ROLE_NAMES[select.value] || select.value}.`);
    } catch (error) {
      select.value = previous;
      failed(error);
    }
  }

  async function copyInvite(user) {
    if (await copyText(user.inviteAcceptUrl)) {
      toast('Invite link copied to clipboard.');
      return;
    }
    showSecret({
      title: 'Invite link',
      warning: `Send this link to ${user.email}. It lets them choose a password and sign in.`,
      label: 'Invite link',
      value: user.inviteAcceptUrl,
    });
  }

  async function deleteUser(user) {
    const ok = await confirmDialog({
      title: 'Delete user',
      text: `Are you sure you want to delete ${user.email}? Their API keys stop working at once. This cannot be undone.`,
      ok: 'Delete Forever',
    });
    if (!ok) return;
    try {
      await rest('DELETE', `/users/${encodeURIComponent(user.id)}`);
      toast(`${user.email} deleted.`);
      loadUsers();
    } catch (error) {
      failed(error);
    }
  }

  $('#invite-user').addEventListener('click', () => {
    const form = $('#invite-form');
    form.reset();
    formError(form, '');
    $('#invite-email').removeAttribute('aria-invalid');
    openDialog($('#invite-dialog'));
    $('#invite-email').focus();
  });

  $('#invite-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    busy(form, async () => {
      const missing = requireFields(form);
      if (missing) throw new Error(missing);
      const email = $('#invite-email').value.trim();
      const answer = await rest('POST', '/invitations', [{ email, role: $('#invite-role').value }]);
      const result = Array.isArray(answer) ? answer[0] : null;
      if (!result) throw new Error('The server did not answer the invitation.');
      if (result.error) throw new Error(result.error);
      $('#invite-dialog').close();
      loadUsers();
      if (result.user?.inviteAcceptUrl) {
        showSecret({
          title: 'User invited',
          warning: `Send this link to ${email}. It lets them choose a password and sign in.`,
          label: 'Invite link',
          value: result.user.inviteAcceptUrl,
        });
      } else {
        toast(`Invitation sent to ${email}.`);
      }
    });
  });

  render(false);
})();
