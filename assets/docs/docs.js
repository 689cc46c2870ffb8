// Renders the public API's OpenAPI document (served beside this page) as a browsable list.
// No framework and no network access beyond this server.
(function () {
  'use strict';
  var root = document.getElementById('operations');
  var filter = document.getElementById('filter');
  var doc = null;

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) { node.append(c); });
    return node;
  }

  function resolve(schema) {
    if (schema && schema.$ref) {
      var name = schema.$ref.split('/').pop();
      return doc.components.schemas[name] || schema;
    }
    return schema;
  }

  function section(title, content) {
    return el('div', {}, [el('h3', {}, [title]), content]);
  }

  function operationNode(path, method, op) {
    var summary = el('summary', {}, [
      el('span', { class: 'method ' + method }, [method.toUpperCase()]),
      el('span', { class: 'path' + (op.deprecated ? ' deprecated' : '') }, [path]),
      el('span', {}, [op.summary || '']),
      el('span', { class: 'scope', title: 'Required API-key scope' }, [op['x-required-scope'] || 'none'])
    ]);
    var body = el('div', { class: 'body' }, []);
    if (op.description) body.append(el('p', {}, [op.description]));
    if (op.parameters && op.parameters.length) {
      var rows = op.parameters.map(function (p) {
        return el('tr', {}, [el('td', {}, [p.name]), el('td', {}, [p.in]), el('td', {}, [p.required ? 'yes' : 'no']),
          el('td', {}, [JSON.stringify(p.schema || {})]), el('td', {}, [p.description || ''])]);
      });
      body.append(section('Parameters', el('table', {}, [el('tr', {}, ['Name', 'In', 'Required', 'Schema', 'Description'].map(function (h) {
        return el('th', { scope: 'col' }, [h]);
      }))].concat(rows))));
    }
    if (op.requestBody) {
      var schema = resolve(op.requestBody.content['application/json'].schema);
      body.append(section('Request body' + (op.requestBody.required ? '' : ' (optional)'), el('pre', {}, [JSON.stringify(schema, null, 2)])));
    }
    var responses = el('table', {}, [el('tr', {}, [el('th', { scope: 'col' }, ['Status']), el('th', { scope: 'col' }, ['Description'])])]);
    Object.keys(op.responses || {}).forEach(function (status) {
      responses.append(el('tr', {}, [el('td', {}, [status]), el('td', {}, [op.responses[status].description || ''])]));
    });
    body.append(section('Responses', responses));
    var node = el('details', { 'data-search': (method + ' ' + path + ' ' + (op.summary || '') + ' ' + (op['x-required-scope'] || '') + ' ' + (op.tags || []).join(' ')).toLowerCase() }, [summary, body]);
    return node;
  }

  function render() {
    var groups = {};
    Object.keys(doc.paths).forEach(function (path) {
      Object.keys(doc.paths[path]).forEach(function (method) {
        var op = doc.paths[path][method];
        var tag = (op.tags && op.tags[0]) || 'Other';
        (groups[tag] = groups[tag] || []).push(operationNode(path, method, op));
      });
    });
    root.textContent = '';
    Object.keys(groups).sort().forEach(function (tag) {
      root.append(el('section', { 'aria-label': tag }, [el('h2', {}, [tag])].concat(groups[tag])));
    });
    applyFilter();
  }

  function applyFilter() {
    var q = filter.value.trim().toLowerCase();
    root.querySelectorAll('details').forEach(function (d) {
      d.hidden = q !== '' && d.getAttribute('data-search').indexOf(q) === -1;
    });
  }

  filter.addEventListener('input', applyFilter);
  fetch('openapi.json').then(function (r) { return r.json(); }).then(function (d) { doc = d; render(); })
    .catch(function () { root.textContent = 'The API description could not be loaded.'; });
})();
