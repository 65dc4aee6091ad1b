import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.js';
import { ticketOfInbound, waitForInbound } from '../helpers/queries.js';
import { queuedId } from '../helpers/smtp-client.js';
import { rawMessage, startTestApp, type TestApp } from '../helpers/test-app.js';

/* The console on a phone and from the keyboard, with text an agent can read. */
const TOKEN = 'console-a11y-token-0123456789abcdef';
let t: TestApp;
let browser: Browser;
let ticketNumber = 0;
beforeAll(async () => {
  t = await startTestApp({ env: { MAILROOM_API_TOKEN: TOKEN } });
  browser = await launchBrowser();
  const sent = await t.send({ from: 'ana@cliente.es', to: ['soporte@example.com'] }, rawMessage({ from: 'ana@cliente.es', subject: 'Un asunto bastante largo para ver cómo se parte en un teléfono estrecho', body: 'x'.repeat(300) }));
  ticketNumber = (await ticketOfInbound(t, await waitForInbound(t, queuedId(sent)))).number;
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
});

const base = () => `http://127.0.0.1:${t.httpPort}`;

/** WCAG 2 contrast ratio of two `rgb(r, g, b)` colours. */
function contrast(a: string, b: string): number {
  const luminance = (rgb: string) => {
    const [r, g, bl] = rgb.match(/\d+/g)!.slice(0, 3).map((v) => {
      const c = Number(v) / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r! + 0.7152 * g! + 0.0722 * bl!;
  };
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}

describe('the console, accessibly', () => {
  it('logs in and reaches a ticket with the keyboard alone', async () => {
    const page = await browser.newPage();
    await page.goto(`${base()}/login`);
    await page.keyboard.type(TOKEN); // the token field has the focus
    await page.keyboard.press('Enter');
    await page.waitForURL(`${base()}/tickets`);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    const link = page.getByRole('link', { name: String(ticketNumber), exact: true });
    await link.focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(`${base()}/tickets/${ticketNumber}`);
  });

  it('fits a 375 px phone without sideways scrolling, and its text has at least 4.5:1 contrast', async () => {
    const context = await browser.newContext({ viewport: { width: 375, height: 740 }, isMobile: true });
    await context.addCookies([{ name: 'mailroom_session', value: TOKEN, url: base() }]);
    const page = await context.newPage();
    for (const path of ['/tickets', `/tickets/${ticketNumber}`]) {
      await page.goto(`${base()}${path}`);
      expect(await page.evaluate(() => document.documentElement.scrollWidth), path).toBeLessThanOrEqual(375);
    }
    const pairs = await page.evaluate(() =>
      ['body', '.meta', 'a', 'th', 'button', 'header.top'].flatMap((selector) => {
        const element = document.querySelector(selector);
        if (!element) return [];
        let background = 'rgba(0, 0, 0, 0)';
        for (let node: Element | null = element; node && /rgba\(0, 0, 0, 0\)|transparent/.test(background); node = node.parentElement) background = getComputedStyle(node).backgroundColor;
        return [{ selector, color: getComputedStyle(element).color, background: /rgba\(0, 0, 0, 0\)/.test(background) ? 'rgb(255, 255, 255)' : background }];
      }),
    );
    expect(pairs.length).toBeGreaterThanOrEqual(4);
    for (const pair of pairs) expect(contrast(pair.color, pair.background), `${pair.selector}: ${pair.color} on ${pair.background}`).toBeGreaterThanOrEqual(4.5);
    await context.close();
  });
});
