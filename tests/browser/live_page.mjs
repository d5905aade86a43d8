// live_page.mjs URL OUT_DIR [EXPECT...]: opens URL/debug/leakwatch/ in headless Chromium and prints
// one JSON line of what a person would see: console errors, the gauges' figures beside the
// live.json document the page drew them from, the chart points, and the stacks shown when the
// first proven leak is clicked (whose frames must name each EXPECT). Saves screenshots in OUT_DIR.
import { createRequire } from 'node:module';

// playwright-core is installed in the build tree (web/package.json), not beside this script.
const require = createRequire((process.env.LEAKWATCH_WEB_MODULES || '.') + '/');
const { chromium } = require('playwright-core');

const [url, outDir, ...expect] = process.argv.slice(2);
let closing = false;
const result = { errors: [], gauges: {}, json_now: null, points: 0, leak_frames: [], leak_title: '', expected: {} };
const browser = await chromium.launch({
  executablePath: process.env.LEAKWATCH_CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1800 } });
  page.on('console', (m) => m.type() === 'error' && result.errors.push('console: ' + m.text()));
  page.on('pageerror', (e) => result.errors.push('page: ' + e.message));
  const documents = new Map();  // time_unix_ms -> the live.json the page received
  page.on('response', async (r) => {
    if (closing) return;
    if (!r.url().includes('/debug/leakwatch/live.json')) return;
    try {
      const doc = await r.json();
      documents.set(String(doc.time_unix_ms), doc);
    } catch (e) {
      if (!closing) result.errors.push('live.json: ' + e.message);  // not a body cut off by close()
    }
  });
  await page.goto(url + '/debug/leakwatch/', { waitUntil: 'load' });
  // Wait for a few refreshes (a new point every 2 s), so the charts have points and the page has
  // redrawn over itself.
  await page.waitForFunction(() => Number(document.body.dataset.points || 0) >= 3, null, { timeout: 30000 });
  await page.screenshot({ path: outDir + '/live_page.png', fullPage: true });
  // Read the figures and the refresh they came from in one evaluation (no refresh in between).
  const seen = await page.evaluate(() => {
    const gauges = {};
    for (const g of document.querySelectorAll('.gauge')) gauges[g.id.replace('gauge-', '')] = g.dataset.value;
    return { time: document.body.dataset.time, gauges, points: Number(document.body.dataset.points) };
  });
  result.gauges = seen.gauges;
  result.points = seen.points;
  // The page may have drawn a document whose body this script is still reading: give it a moment.
  for (let i = 0; i < 40 && !documents.has(seen.time); i++) await page.waitForTimeout(50);
  result.json_now = documents.has(seen.time) ? documents.get(seen.time).now : null;
  result.documents_seen = documents.size;
  result.canvases = await page.locator('.chart canvas').count();
  const leak = page.locator('details.leak').first();
  if ((await leak.count()) > 0) {
    await leak.locator('summary').click();
    await page.waitForTimeout(200);
    result.leak_title = await leak.locator('summary').innerText();
    result.leak_open = await leak.evaluate((d) => d.open);
    result.leak_frames = await leak.locator('ol.stack li').allInnerTexts();
    await leak.screenshot({ path: outDir + '/live_page_leak.png' });
  }
  for (const e of expect) result.expected[e] = result.leak_frames.some((f) => f.includes(e));
} finally {
  closing = true;
  await browser.close();
}
console.log(JSON.stringify(result));
