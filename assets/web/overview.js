// The overview: the insights summary (each figure with its change from the previous period)
// and a chart of executions per day by status over the last 7 or 30 days, drawn as SVG here.
'use strict';

(() => {
  const SVG = 'http://www.w3.org/2000/svg';
  const DAY = 86_400_000;

  function s(tag, attrs = {}, ...children) {
    const element = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attrs)) element.setAttribute(name, String(value));
    for (const child of children) element.append(child);
    return element;
  }

  const FIGURES = [
    { key: 'total', label: 'Production executions', format: (v) => String(Math.round(v)), better: 'none' },
    { key: 'failed', label: 'Failed executions', format: (v) => String(Math.round(v)), better: 'down' },
    { key: 'failureRate', label: 'Failure rate', format: (v) => `${(v * 100).toFixed(1)}%`, better: 'down' },
    { key: 'timeSaved', label: 'Time saved', format: (v) => (v >= 60 ? `${(v / 60).toFixed(1)} h` : `${Math.round(v)} min`), better: 'up' },
    { key: 'averageRunTime', label: 'Run time (avg.)', format: (v) => (v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${Math.round(v)} ms`), better: 'down' },
  ];

  function card(h, figure, data) {
    const value = data ? data.value : null;
    const deviation = data ? data.deviation : null;
    let change = h('span', { class: 'deviation muted' }, data ? 'no earlier data' : '\u00a0');
    if (deviation !== null && deviation !== undefined) {
      const sign = deviation > 0 ? '▲' : deviation < 0 ? '▼' : '';
      const good = figure.better === 'none' || deviation === 0 ? '' : ((deviation < 0) === (figure.better === 'down') ? ' good' : ' bad');
      change = h('span', { class: `deviation${good}` }, `${sign} ${figure.format(Math.abs(deviation))} vs previous period`);
    }
    return h('div', { class: 'figure', role: 'group', 'aria-label': figure.label },
      h('span', { class: 'figure-label' }, figure.label),
      h('strong', { class: 'figure-value' }, value === null ? '—' : figure.format(value)), change);
  }

  /** Stacked bars: succeeded below, failed above, one bar per day. */
  function chart(days) {
    const width = 720; const height = 240; const left = 36; const bottom = 28; const top = 12;
    const plotH = height - bottom - top;
    const max = Math.max(1, ...days.map((d) => d.values.total));
    const step = (width - left - 8) / Math.max(1, days.length);
    const bar = Math.max(3, Math.min(28, step * 0.7));
    const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img', 'aria-label': `Executions per day: ${days.map((d) => `${d.date.slice(0, 10)} ${d.values.succeeded} succeeded, ${d.values.failed} failed`).join('; ')}` });
    const ticks = 4;
    for (let i = 0; i <= ticks; i += 1) {
      const value = Math.round((max * i) / ticks);
      const y = top + plotH - (plotH * value) / max;
      svg.append(s('line', { x1: left, x2: width - 4, y1: y, y2: y, class: 'grid' }), s('text', { x: left - 6, y: y + 4, class: 'axis', 'text-anchor': 'end' }, String(value)));
    }
    const labelEvery = Math.ceil(days.length / 10);
    days.forEach((day, i) => {
      const x = left + i * step + (step - bar) / 2;
      const ok = (plotH * day.values.succeeded) / max;
      const bad = (plotH * day.values.failed) / max;
      const date = new Date(day.date);
      const label = `${date.toISOString().slice(0, 10)}: ${day.values.succeeded} succeeded, ${day.values.failed} failed`;
      const group = s('g', { class: 'day' }, s('title', {}, label));
      if (ok) group.append(s('rect', { x, y: top + plotH - ok, width: bar, height: ok, class: 'ok' }));
      if (bad) group.append(s('rect', { x, y: top + plotH - ok - bad, width: bar, height: bad, class: 'bad' }));
      svg.append(group);
      if (i % labelEvery === 0) {
        svg.append(s('text', { x: x + bar / 2, y: height - 8, class: 'axis', 'text-anchor': 'middle' }, `${date.getUTCDate()}/${date.getUTCMonth() + 1}`));
      }
    });
    return svg;
  }

  function show(ctx, _match, root, navigated) {
    const { h, rest, failed, RestError } = ctx;
    ctx.setTitle('Overview');
    const range = h('select', { id: 'ov-range' }, h('option', { value: '7' }, 'Last 7 days'), h('option', { value: '30' }, 'Last 30 days'));
    const figures = h('div', { class: 'figures', 'aria-busy': 'true' }, FIGURES.map((f) => card(h, f, null)));
    const chartFrame = h('div', { class: 'chart-frame', 'aria-busy': 'true' });
    const legend = h('p', { class: 'legend' }, h('span', { class: 'swatch ok' }), 'Succeeded ', h('span', { class: 'swatch bad' }), 'Failed');
    const notice = h('p', { class: 'notice', hidden: true });
    root.append(
      h('div', { class: 'page-head' }, h('h1', {}, 'Overview'),
        h('div', { class: 'field inline' }, h('label', { for: 'ov-range', class: 'visually-hidden' }, 'Period'), range)),
      h('p', { class: 'muted' }, 'Production executions of every project, compared with the period before.'),
      notice, figures, h('h2', {}, 'Executions per day'), legend, chartFrame);
    if (navigated) ctx.focusHeading(root);
    let request = 0;

    async function load() {
      const mine = ++request;
      const days = Number(range.value);
      // Whole UTC days, today included.
      const end = new Date(Math.floor(Date.now() / DAY) * DAY + DAY);
      const start = new Date(end.getTime() - days * DAY);
      const query = new URLSearchParams({ startDate: start.toISOString(), endDate: end.toISOString() });
      try {
        const [summary, byTime] = await Promise.all([rest('GET', `/insights/summary?${query}`), rest('GET', `/insights/by-time?${query}`)]);
        if (mine !== request) return;
        figures.replaceChildren(...FIGURES.map((f) => card(h, f, summary[f.key])));
        chartFrame.replaceChildren(chart(byTime));
      } catch (error) {
        if (error instanceof RestError && error.status === 403) {
          notice.hidden = false;
          notice.textContent = 'Insights are shown to owners and admins of this instance.';
          chartFrame.replaceChildren();
        } else {
          failed(error);
        }
      } finally {
        figures.setAttribute('aria-busy', 'false');
        chartFrame.setAttribute('aria-busy', 'false');
      }
    }
    range.addEventListener('change', load);
    load();
    return () => { request += 1; };
  }

  window.flowgatePages.push({ name: 'overview', pattern: /^\/overview$/, show });
})();
