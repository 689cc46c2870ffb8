// Settings > Users: the user list, invitations, role changes and deletion (owners and admins).
'use strict';

(() => {
  window.flowgateSettings = window.flowgateSettings || {};

  window.flowgateSettings.users = (context) => {
    const { ROLE_NAMES, RestError, state, $, h, rest, toast, failed, busy, formError, openDialog, confirmDialog, showSecret, copyText, requireFields } = context;

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
      return { loadUsers };
  };
})();
