import { describe, expect, it } from 'vitest';
import { CardInspectionError, formatCardInspection, inspectCard } from '@busfare/terminal';
import { makeCard } from '../tap/cards.js';
import { createTapFixture } from '../tap/tap-fixture.js';

describe('card inspection', () => {
  it('reads a card after one purchase', async () => {
    const fixture = await createTapFixture();
    const card = makeCard({ balanceFen: 1500 });
    expect((await fixture.tap(card)).status).toBe('accepted');

    const session = fixture.reader.present(card);
    const inspection = await inspectCard(session);
    fixture.reader.remove();

    expect(inspection.ef15.asn).toBe(card.asn);
    expect(inspection.ef15.issuerId).toBe(card.issuerId);
    expect(inspection.medium).toBe('card');
    expect(inspection.balanceFen).toBe(1300);
    expect(inspection.purseLog).toHaveLength(1);
    expect(inspection.purseLog[0]?.amountFen).toBe(200);
    expect(inspection.purseLog[0]?.terminalNumber).toBe('000058100001');
    expect(card.balanceFen).toBe(1300);
  });

  it('formats in Chinese and English', async () => {
    const fixture = await createTapFixture();
    const card = makeCard({ balanceFen: 1000 });
    await fixture.tap(card);
    const inspection = await inspectCard(fixture.reader.present(card));

    const zh = formatCardInspection(inspection, 'zh');
    expect(zh).toContain(`卡号：${card.asn}`);
    expect(zh).toContain('余额（元）：8.00');
    expect(zh).toContain('消费');
    const en = formatCardInspection(inspection, 'en');
    expect(en).toContain(`Card number: ${card.asn}`);
    expect(en).toContain('Balance (yuan): 8.00');
    expect(en).toContain('Purchase');
  });

  it('reports an empty log on a new card', async () => {
    const fixture = await createTapFixture();
    const inspection = await inspectCard(fixture.reader.present(makeCard()));
    expect(inspection.purseLog).toEqual([]);
    expect(formatCardInspection(inspection, 'en')).toContain('No records');
  });

  it('rejects a blocked card', async () => {
    const fixture = await createTapFixture();
    const card = makeCard({ blocked: true });
    await expect(inspectCard(fixture.reader.present(card))).rejects.toBeInstanceOf(CardInspectionError);
  });

  it('words a blocked card in both languages', async () => {
    const fixture = await createTapFixture();
    const error = await inspectCard(fixture.reader.present(makeCard({ blocked: true }))).catch((caught: unknown) => caught);
    if (!(error instanceof CardInspectionError)) throw new Error(`expected a CardInspectionError, got ${String(error)}`);

    expect(error.failure).toBe('application-blocked');
    expect(error.textIn('zh')).toMatch(/^电子钱包应用已锁定（SW [0-9A-F]{4}）$/);
    expect(error.textIn('en')).toMatch(/^the e-purse application is blocked \(SW [0-9A-F]{4}\)$/);
    expect(error.message).toBe(error.textIn('en'));
  });
});
