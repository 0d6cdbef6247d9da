/// <reference lib="dom" />
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';

/** Display sizes of validators that the kiosk page must fit. */
export const KIOSK_VIEWPORTS = [
  { width: 800, height: 480 },
  { width: 1024, height: 600 },
] as const;

/**
 * Checks at every kiosk display size that the page does not scroll and shows the given elements
 * whole, and saves a screenshot of each size in `screenshotDir`.
 */
export async function checkKioskLayout(page: Page, name: string, selectors: string[], screenshotDir: string): Promise<void> {
  for (const viewport of KIOSK_VIEWPORTS) {
    await page.setViewportSize(viewport);
    const overflow = await page.evaluate(() => ({ height: document.documentElement.scrollHeight - window.innerHeight, width: document.documentElement.scrollWidth - window.innerWidth }));
    expect(overflow.height, `${name} at ${viewport.width}x${viewport.height} scrolls vertically`).toBeLessThanOrEqual(0);
    expect(overflow.width, `${name} at ${viewport.width}x${viewport.height} scrolls horizontally`).toBeLessThanOrEqual(0);
    for (const selector of selectors) {
      const box = await page.locator(selector).first().boundingBox();
      expect(box, `${selector} is not rendered in ${name}`).not.toBeNull();
      expect(box!.y + box!.height, `${selector} is cut off at ${viewport.height} px in ${name}`).toBeLessThanOrEqual(viewport.height + 0.5);
      expect(box!.x + box!.width, `${selector} is cut off at ${viewport.width} px in ${name}`).toBeLessThanOrEqual(viewport.width + 0.5);
    }
    await page.screenshot({ path: join(screenshotDir, `${name}-${viewport.width}x${viewport.height}.png`) });
  }
  await page.setViewportSize(KIOSK_VIEWPORTS[0]);
}
