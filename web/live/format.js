// Number formats shared by the gauges, tables and chart axes.
const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function bytes(n) {
  let v = Number(n);
  let u = 0;
  while (Math.abs(v) >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return (u === 0 ? String(v) : v.toFixed(v >= 100 ? 0 : 1)) + ' ' + UNITS[u];
}

export function count(n) {
  return Number(n).toLocaleString('en-US');
}

export function since(unixMs, nowMs) {
  if (!unixMs) return '';
  let s = Math.max(0, Math.round((nowMs - unixMs) / 1000));
  if (s < 120) return s + ' s';
  const m = Math.round(s / 60);
  return m < 120 ? m + ' min' : Math.round(m / 60) + ' h';
}

export function frame(f) {
  const where = f.file ? ' ' + f.file.split('/').pop() + ':' + f.line : '';
  return (f.function || '??') + where;
}
