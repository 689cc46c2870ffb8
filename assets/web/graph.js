// Draws a workflow as an SVG graph from its nodes' positions and its connections: nodes as
// labelled boxes (the type's initial in a badge), edges with their output index where a node
// has several outputs, disabled nodes greyed, sticky notes behind, unsupported nodes marked.
// With an execution's results each node is coloured by its status and shows its item count.
// Zoom with the wheel or the +/- buttons, pan by dragging or with the arrow keys; nodes are
// buttons (Tab, Enter) that report a selection.
'use strict';

(() => {
  const SVG = 'http://www.w3.org/2000/svg';
  const NODE_W = 180;
  const NODE_H = 60;
  // Frames narrower than this (CSS px) are phone-sized; below this scale (CSS px per drawing
  // unit) node names (13 units) come out under 10 px, too small to read on a phone.
  const PHONE_FRAME = 600;
  const READABLE = 0.75;
  const STICKY = 'n8n-nodes-base.stickyNote';

  function s(tag, attrs = {}, ...children) {
    const element = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attrs)) {
      if (value !== null && value !== undefined && value !== false) element.setAttribute(name, String(value));
    }
    for (const child of children) if (child !== null && child !== undefined) element.append(child);
    return element;
  }

  /** A short type name: `n8n-nodes-base.httpRequest` → `httpRequest`. */
  function typeName(type) {
    const text = String(type || '');
    return text.slice(text.lastIndexOf('.') + 1) || text;
  }

  /** The badge letters of a type: `httpRequest` → `H`, `if` → `IF`. */
  function initials(type) {
    const name = typeName(type);
    if (name.length <= 2) return name.toUpperCase();
    return name.charAt(0).toUpperCase();
  }

  function clip(text, max) {
    const value = String(text);
    return value.length > max ? `${value.slice(0, max - 1)}…` : value;
  }

  /** Where a node sits (n8n positions are the top-left corner). */
  function place(node) {
    const [x, y] = Array.isArray(node.position) ? node.position : [0, 0];
    return { x: Number(x) || 0, y: Number(y) || 0 };
  }

  /** The edges of n8n's `connections`: source → [type][output] → [{node, index}]. */
  function edgesOf(connections) {
    const edges = [];
    for (const [source, byType] of Object.entries(connections || {})) {
      for (const [kind, outputs] of Object.entries(byType || {})) {
        (outputs || []).forEach((targets, output) => {
          for (const target of targets || []) {
            if (target && typeof target.node === 'string') {
              edges.push({ source, kind, output, target: target.node, input: Number(target.index) || 0 });
            }
          }
        });
      }
    }
    return edges;
  }

  /**
   * Draws `workflow` into `container`. Options: `unsupported` (node names), `results`
   * (name → {status, items}), `onSelect(node)`. Answers {select(name), nodeCount, edgeCount}.
   */
  function draw(container, workflow, options = {}) {
    const started = performance.now();
    const nodes = Array.isArray(workflow.nodes) ? workflow.nodes : [];
    const edges = edgesOf(workflow.connections);
    const unsupported = new Set(options.unsupported || []);
    const results = options.results || null;
    const byName = new Map(nodes.map((n) => [n.name, n]));
    const outputsOf = new Map();
    for (const edge of edges) outputsOf.set(edge.source, Math.max(outputsOf.get(edge.source) || 0, edge.output + 1));

    // The drawing's bounds, with a margin.
    let minX = Infinity; let minY = Infinity; let maxX = -Infinity; let maxY = -Infinity;
    for (const node of nodes) {
      const { x, y } = place(node);
      const sticky = node.type === STICKY;
      const w = sticky ? Number(node.parameters?.width) || 240 : NODE_W;
      const h = sticky ? Number(node.parameters?.height) || 160 : NODE_H;
      minX = Math.min(minX, x); minY = Math.min(minY, y);
      maxX = Math.max(maxX, x + w); maxY = Math.max(maxY, y + h);
    }
    if (!nodes.length) { minX = 0; minY = 0; maxX = 400; maxY = 200; }
    const fit = { x: minX - 40, y: minY - 40, w: maxX - minX + 80, h: maxY - minY + 80 };
    let view = { ...fit };
    // In a phone-sized frame a whole graph of more than a few nodes would be drawn too small
    // to read: start at a readable scale from its left end (where the triggers sit), centred
    // vertically; "Fit" (or 0) still shows all of it.
    const frameW = container.clientWidth;
    const frameH = container.clientHeight;
    if (frameW && frameH && frameW < PHONE_FRAME && Math.min(frameW / fit.w, frameH / fit.h) < READABLE) {
      const w = frameW / READABLE;
      const h = frameH / READABLE;
      view = { x: fit.x, y: fit.y + fit.h / 2 - h / 2, w, h };
    }

    const svg = s('svg', { class: 'graph', role: 'group', 'aria-label': `Workflow graph: ${nodes.filter((n) => n.type !== STICKY).length} nodes, ${edges.length} connections`, tabindex: 0, preserveAspectRatio: 'xMidYMid meet' });
    const defs = s('defs', {}, s('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, s('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrow' })));
    const notes = s('g', { class: 'notes' });
    const lines = s('g', { class: 'edges' });
    const boxes = s('g', { class: 'nodes' });
    svg.append(defs, notes, lines, boxes);

    function apply() { svg.setAttribute('viewBox', `${view.x} ${view.y} ${view.w} ${view.h}`); }
    apply();

    for (const node of nodes) {
      if (node.type !== STICKY) continue;
      const { x, y } = place(node);
      const w = Number(node.parameters?.width) || 240;
      const hgt = Number(node.parameters?.height) || 160;
      const text = String(node.parameters?.content || '').replace(/[#*_`>]/g, '').split('\n').filter(Boolean).slice(0, Math.max(1, Math.floor((hgt - 16) / 18)));
      const note = s('g', { class: 'sticky', 'data-node': node.name }, s('rect', { x, y, width: w, height: hgt, rx: 6 }));
      text.forEach((line, i) => note.append(s('text', { x: x + 10, y: y + 22 + i * 18 }, clip(line, Math.floor(w / 7.5)))));
      notes.append(note);
    }

    for (const edge of edges) {
      const from = byName.get(edge.source);
      const to = byName.get(edge.target);
      if (!from || !to) continue;
      const a = place(from);
      const b = place(to);
      const outputs = outputsOf.get(edge.source) || 1;
      const x1 = a.x + NODE_W;
      const y1 = a.y + (NODE_H * (edge.output + 1)) / (outputs + 1);
      const x2 = b.x;
      const y2 = b.y + NODE_H / 2 + Math.min(edge.input, 3) * 8;
      const bend = Math.max(40, Math.abs(x2 - x1) / 2);
      const path = s('path', { d: `M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}`, class: `edge${edge.kind === 'main' ? '' : ' sub'}`, 'marker-end': 'url(#arrow)', 'data-edge': `${edge.source}:${edge.output}->${edge.target}:${edge.input}` });
      lines.append(path);
      if (outputs > 1) lines.append(s('text', { x: x1 + 6, y: y1 - 4, class: 'edge-label' }, String(edge.output)));
    }

    const groups = new Map();
    for (const node of nodes) {
      if (node.type === STICKY) continue;
      const { x, y } = place(node);
      const result = results ? results[node.name] || { status: 'not-run', items: 0 } : null;
      const classes = ['node'];
      if (node.disabled) classes.push('disabled');
      if (unsupported.has(node.name)) classes.push('unsupported');
      if (result) classes.push(`status-${result.status}`);
      const label = [node.name, typeName(node.type), node.disabled ? 'disabled' : null,
        unsupported.has(node.name) ? 'not supported by this server' : null,
        result ? (result.status === 'not-run' ? 'not run' : `${result.status}, ${result.items} item${result.items === 1 ? '' : 's'}`) : null]
        .filter(Boolean).join(', ');
      const group = s('g', { class: classes.join(' '), 'data-node': node.name, tabindex: 0, role: 'button', 'aria-label': label },
        s('title', {}, label),
        s('rect', { x, y, width: NODE_W, height: NODE_H, rx: 8, class: 'box' }),
        s('circle', { cx: x + 24, cy: y + NODE_H / 2, r: 15, class: 'badge' }),
        s('text', { x: x + 24, y: y + NODE_H / 2 + 5, class: 'initial', 'text-anchor': 'middle' }, initials(node.type)),
        s('text', { x: x + 48, y: y + 26, class: 'name' }, clip(node.name, 17)),
        s('text', { x: x + 48, y: y + 44, class: 'type' }, clip(typeName(node.type), 20)));
      if (unsupported.has(node.name)) group.append(s('text', { x: x + NODE_W - 8, y: y - 6, class: 'flag', 'text-anchor': 'end' }, 'unsupported'));
      if (result && result.status !== 'not-run') {
        group.append(s('text', { x: x + NODE_W - 8, y: y + NODE_H + 16, class: 'count', 'text-anchor': 'end' }, `${result.items} item${result.items === 1 ? '' : 's'}`));
      }
      const choose = () => select(node.name);
      group.addEventListener('click', choose);
      group.addEventListener('keydown', (event) => {
        if (event.key === 'Enter' || event.key === ' ') { event.preventDefault(); choose(); }
      });
      groups.set(node.name, group);
      boxes.append(group);
    }

    function select(name) {
      for (const [n, g] of groups) g.classList.toggle('selected', n === name);
      const node = byName.get(name);
      // A selected node outside the view (a phone's partial view) is brought to its centre.
      if (node && groups.has(name)) {
        const { x, y } = place(node);
        if (x < view.x || y < view.y || x + NODE_W > view.x + view.w || y + NODE_H > view.y + view.h) {
          view = { ...view, x: x + NODE_W / 2 - view.w / 2, y: y + NODE_H / 2 - view.h / 2 };
          apply();
        }
      }
      if (node && options.onSelect) options.onSelect(node);
    }

    // Zoom about a point (in drawing units), pan by a fraction of the view.
    function zoom(factor, cx = view.x + view.w / 2, cy = view.y + view.h / 2) {
      const w = Math.min(Math.max(view.w * factor, 100), fit.w * 8 + 2000);
      const k = w / view.w;
      view = { x: cx - (cx - view.x) * k, y: cy - (cy - view.y) * k, w, h: view.h * k };
      apply();
    }
    function pan(dx, dy) { view.x += dx * view.w; view.y += dy * view.h; apply(); }
    svg.addEventListener('wheel', (event) => {
      event.preventDefault();
      const box = svg.getBoundingClientRect();
      const cx = view.x + ((event.clientX - box.left) / box.width) * view.w;
      const cy = view.y + ((event.clientY - box.top) / box.height) * view.h;
      zoom(event.deltaY > 0 ? 1.15 : 1 / 1.15, cx, cy);
    }, { passive: false });
    let drag = null;
    svg.addEventListener('pointerdown', (event) => {
      if (event.target.closest('.node')) return;
      drag = { x: event.clientX, y: event.clientY };
      svg.setPointerCapture(event.pointerId);
    });
    svg.addEventListener('pointermove', (event) => {
      if (!drag) return;
      const box = svg.getBoundingClientRect();
      pan(-(event.clientX - drag.x) / box.width, -(event.clientY - drag.y) / box.height);
      drag = { x: event.clientX, y: event.clientY };
    });
    svg.addEventListener('pointerup', () => { drag = null; });
    svg.addEventListener('keydown', (event) => {
      if (event.target !== svg) return;
      const moves = { ArrowLeft: [-0.1, 0], ArrowRight: [0.1, 0], ArrowUp: [0, -0.1], ArrowDown: [0, 0.1] };
      if (moves[event.key]) { event.preventDefault(); pan(...moves[event.key]); }
      if (event.key === '+' || event.key === '=') zoom(1 / 1.2);
      if (event.key === '-') zoom(1.2);
      if (event.key === '0') { view = { ...fit }; apply(); }
    });

    const button = (text, label, action) => {
      const b = document.createElement('button');
      b.type = 'button'; b.className = 'small ghost'; b.textContent = text;
      b.setAttribute('aria-label', label);
      b.addEventListener('click', action);
      return b;
    };
    const controls = document.createElement('div');
    controls.className = 'graph-controls';
    controls.append(button('+', 'Zoom in', () => zoom(1 / 1.2)), button('−', 'Zoom out', () => zoom(1.2)),
      button('Fit', 'Fit to view', () => { view = { ...fit }; apply(); }));

    container.replaceChildren(svg, controls);
    const drawnIn = performance.now() - started;
    // Time to first paint: the frame after the one that lays the drawing out.
    requestAnimationFrame(() => requestAnimationFrame(() => {
      container.dataset.drawMs = drawnIn.toFixed(1);
      container.dataset.paintMs = (performance.now() - started).toFixed(1);
    }));
    return { select, nodeCount: groups.size, edgeCount: lines.querySelectorAll('path.edge').length };
  }

  window.flowgateGraph = { draw, edgesOf, typeName };
})();
