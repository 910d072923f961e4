// charts.js: small inline SVG charts over the time buckets of GET /api/v1/stats:
// lines and stacked bars, with a hover title on every point.
import { esc, html, raw } from './core.js';

const width = 520, height = 170, left = 64, right = 10, top = 10, bottom = 26;

function niceMax(value) {
  if (!(value > 0)) return 1;
  const power = Math.pow(10, Math.floor(Math.log10(value)));
  for (const step of [1, 2, 2.5, 5, 10]) if (value <= step * power) return step * power;
  return 10 * power;
}

function shortTime(iso, stepSeconds) {
  const d = new Date(iso);
  const hm = String(d.getHours()).padStart(2, '0') + ':' + String(d.getMinutes()).padStart(2, '0');
  if (stepSeconds >= 3600 * 6) return (d.getMonth() + 1) + '/' + d.getDate() + ' ' + hm;
  return hm;
}

function axes(max, format, buckets, stepSeconds) {
  const plotHeight = height - top - bottom;
  // A middle tick that prints like an end (a count of 0.5 rounds to 1) is
  // left without a label, so the axis never reads 0, 1, 1.
  const ticks = [0, 0.5, 1].map((f) => format(max * f));
  const lines = [0, 0.5, 1].map((f, i) => {
    const y = top + plotHeight * (1 - f);
    const label = i === 1 && (ticks[1] === ticks[0] || ticks[1] === ticks[2]) ? '' : ticks[i];
    return `<line class="grid" x1="${left}" x2="${width - right}" y1="${y}" y2="${y}"/>` +
      (label ? `<text class="tick" x="${left - 4}" y="${y + 4}" text-anchor="end">${esc(label)}</text>` : '');
  }).join('');
  let labels = '';
  if (buckets.length) {
    const last = buckets.length - 1;
    labels = `<text class="tick" x="${left}" y="${height - 8}">${esc(shortTime(buckets[0].start, stepSeconds))}</text>` +
      `<text class="tick" x="${width - right}" y="${height - 8}" text-anchor="end">${esc(shortTime(buckets[last].start, stepSeconds))}</text>`;
  }
  return lines + labels;
}

function legend(series) {
  return html`<ul class="legend">${series.map((s, i) => html`<li><span class="swatch s-${s.key || i}"></span>${s.name}</li>`)}</ul>`;
}

/**
 * lineChart draws one line per series over the buckets. series: [{name, key, values}];
 * format prints a value for the axis and the hover titles.
 */
export function lineChart({ id, title, note, buckets, stepSeconds, series, format = (v) => String(+v.toFixed(2)) }) {
  const plotWidth = width - left - right, plotHeight = height - top - bottom;
  const max = niceMax(Math.max(0, ...series.flatMap((s) => s.values)));
  const x = (i) => left + (buckets.length <= 1 ? plotWidth / 2 : (plotWidth * i) / (buckets.length - 1));
  const y = (v) => top + plotHeight * (1 - v / max);
  let body = axes(max, format, buckets, stepSeconds);
  series.forEach((s, n) => {
    const key = s.key || n;
    const points = s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    body += `<polyline class="line s-${esc(key)}" points="${points}"/>`;
    body += s.values.map((v, i) => `<circle class="dot s-${esc(key)}" cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="2.5"><title>${esc(s.name)} ${esc(shortTime(buckets[i].start, stepSeconds))}: ${esc(format(v))}</title></circle>`).join('');
  });
  return frame(id, title, note, body, series);
}

/** stackedBars draws one bar per bucket, stacked by series. */
export function stackedBars({ id, title, note, buckets, stepSeconds, series, format = (v) => Math.round(v).toLocaleString('en-US') }) {
  const plotWidth = width - left - right, plotHeight = height - top - bottom;
  const totals = buckets.map((_, i) => series.reduce((sum, s) => sum + (s.values[i] || 0), 0));
  const max = niceMax(Math.max(0, ...totals));
  const slot = plotWidth / Math.max(1, buckets.length);
  const barWidth = Math.max(1, slot * 0.8);
  let body = axes(max, format, buckets, stepSeconds);
  buckets.forEach((bucket, i) => {
    let base = 0;
    series.forEach((s, n) => {
      const v = s.values[i] || 0;
      if (!v) return;
      const h = (plotHeight * v) / max;
      const yTop = top + plotHeight - ((plotHeight * base) / max) - h;
      body += `<rect class="bar s-${esc(s.key || n)}" x="${(left + slot * i + (slot - barWidth) / 2).toFixed(1)}" y="${yTop.toFixed(1)}" width="${barWidth.toFixed(1)}" height="${h.toFixed(1)}"><title>${esc(s.name)} ${esc(shortTime(bucket.start, stepSeconds))}: ${esc(format(v))}</title></rect>`;
      base += v;
    });
  });
  return frame(id, title, note, body, series);
}

function frame(id, title, note, body, series) {
  return html`<figure class="chart" id="${id}" data-chart="${id}">
    <figcaption>${title}${note ? html` <span class="muted">${note}</span>` : ''}</figcaption>
    ${raw(`<svg viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(title)}">${body}</svg>`)}
    ${legend(series)}
  </figure>`;
}
