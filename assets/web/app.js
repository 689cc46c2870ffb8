// The web page's script: client-side routing, the calls to /rest, owner set-up, sign-in and
// invitation sign-up, and the shell that shows the pages of the other scripts (keys.js,
// users.js for the settings; workflows.js, executions.js, overview.js register their own).
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
    state.next = currentRoute() !== '/' ? currentRoute() : null;
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
          if (route !== '/') state.next = route;
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
      const shown = pageFor(route);
      if (shown) {
        showAppPage(shown, navigated);
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
    const url = new URL(link.href);
    const path = url.pathname.slice(BASE.length) + url.search;
    if (path !== currentRoute() + location.search) go(path);
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
    stopAppPage();
    $('#page-api').hidden = page !== 'api';
    $('#page-users').hidden = page !== 'users';
    $('#page-app').hidden = true;
    if (page === null) {
      showView('view-settings', 'flowgate', false);
      return;
    }
    showView('view-settings', page === 'api' ? 'n8n API' : 'Users', false);
    if (navigated) $(`#page-${page} h1`).focus();
    if (page === 'api') showApiPage();
    else loadUsers();
  }
  $$('.page h1').forEach((heading) => heading.setAttribute('tabindex', '-1'));

  // ---- the pages of other scripts (workflows, executions, overview) -------------------

  // Each registers in `window.flowgatePages` before this script runs: a list of
  // {name, pattern, show(context, match, root)} where `show` may answer a stop function.
  const appPages = window.flowgatePages || [];
  let stopCurrent = null;

  function pageFor(route) {
    for (const page of appPages) {
      const match = page.pattern.exec(route);
      if (match) return { page, match };
    }
    return null;
  }

  function stopAppPage() {
    if (stopCurrent) stopCurrent();
    stopCurrent = null;
  }

  const pageContext = {
    BASE, h, rest, RestError, toast, failed, go, timeElement, isAdmin, $, $$,
    user: () => state.user,
    focusHeading: (root) => { const heading = $('h1', root); if (heading) { heading.setAttribute('tabindex', '-1'); heading.focus(); } },
    setTitle: (title) => { document.title = `${title} - flowgate`; },
  };

  function showAppPage({ page, match }, navigated) {
    stopAppPage();
    showSettings(null, false);
    for (const link of $$('.sidebar a[data-nav]')) {
      if (link.dataset.nav === page.name) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
    const root = $('#page-app');
    $('#page-api').hidden = true;
    $('#page-users').hidden = true;
    root.hidden = false;
    root.replaceChildren();
    stopCurrent = page.show(pageContext, match, root, navigated) || null;
  }
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
  // ---- the settings pages of keys.js and users.js --------------------------------------

  const settingsContext = {
    BASE, KEYS_PER_PAGE, ROLE_NAMES, state, $, $$, h, rest, RestError, toast, failed, busy, formError,
    formatDate, timeElement, isAdmin, openDialog, confirmDialog, showSecret, copyText, requireFields,
  };
  const { showApiPage } = window.flowgateSettings.keys(settingsContext);
  const { loadUsers } = window.flowgateSettings.users(settingsContext);


  render(false);
})();
