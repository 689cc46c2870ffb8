// Settings > n8n API: the list of API keys (search, sort, paging, whose keys) and creating,
// editing, rotating and deleting a key. app.js hands in its helpers; the raw key is shown
// only in the secret dialog.
'use strict';

(() => {
  window.flowgateSettings = window.flowgateSettings || {};

  window.flowgateSettings.keys = (context) => {
    const { BASE, KEYS_PER_PAGE, state, $, $$, h, rest, toast, failed, busy, formError, formatDate, timeElement, isAdmin, openDialog, confirmDialog, showSecret } = context;

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

      return { showApiPage };
  };
})();
