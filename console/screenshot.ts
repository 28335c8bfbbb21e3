/**
 * A screenshot of the review console against a live pipeline (the local runtime of `npm start`), for docs/console.png:
 * the console is started with the operator tools' local connection, opened in headless Chromium (playwright-core,
 * the system's Chromium), and the highest-scored case under review (else the latest decision) is shown with a
 * reason typed in. Nothing is decided.
 */
import * as fs from 'fs';
import * as path from 'path';
import { connect } from '../ops/operator';
import { startConsole } from './server';

export interface ScreenshotOptions {
  /** `.local/endpoints.json` of the running session. */
  endpointsFile: string;
  /** Where to write the PNG. */
  file: string;
  /** @default CHROMIUM_PATH or /usr/bin/chromium */
  chromiumPath?: string;
}

export async function captureConsole(opts: ScreenshotOptions): Promise<{ file: string; caseId?: string }> {
  const executablePath = opts.chromiumPath ?? process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!fs.existsSync(executablePath)) throw new Error(`chromium not found at ${executablePath} (install it, or set CHROMIUM_PATH)`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { chromium } = require('playwright-core') as typeof import('playwright-core');
  const op = await connect({ local: true, endpointsFile: opts.endpointsFile, identity: 'local:reviewer-alice' });
  const con = await startConsole({ operator: op });
  const browser = await chromium.launch({
    executablePath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 1100 } });
    await page.goto(con.loginUrl);
    await page.locator('#filter-sort').waitFor();
    await page.locator('#filter-sort').selectOption('score');
    await page.locator('#list h2', { hasText: 'highest score first' }).waitFor();
    let caseId: string | undefined;
    const first = page.locator('#list .row').first();
    if ((await page.locator('#list .row').count()) === 0) {
      await page.locator('#tabs button[data-tab="recent"]').click();
      await page.locator('#list h2', { hasText: 'Recent decisions' }).waitFor();
    }
    if ((await page.locator('#list .row').count()) > 0) {
      caseId = (await first.getAttribute('data-case')) ?? undefined;
      await first.click();
      await page.locator('#case-title').waitFor();
      await page.locator('#chart-activity svg').waitFor();
      const reason = page.locator('#decision textarea');
      if ((await reason.count()) > 0)
        await reason.fill('Same prompt templates and minute-level synchrony as the rest of the cluster; CoT elicitation far above baseline.');
    }
    fs.mkdirSync(path.dirname(path.resolve(opts.file)), { recursive: true });
    await page.screenshot({ path: opts.file, fullPage: false });
    return { file: opts.file, caseId };
  } finally {
    await browser.close();
    await con.close();
    op.destroy();
  }
}
