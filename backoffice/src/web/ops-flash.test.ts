import { describe, expect, it } from 'vitest';
import { FlashStore, flashText } from './ops-flash.js';

const ERROR = { kind: 'error' as const, messageId: 'ops.input.day' as const };

describe('FlashStore', () => {
  it('returns a flash once', () => {
    const store = new FlashStore();
    const id = store.put('session-a', ERROR);

    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(store.take('session-a', id)).toEqual(ERROR);
    expect(store.take('session-a', id)).toBeUndefined();
  });

  it('keeps a flash from another session', () => {
    const store = new FlashStore();
    const id = store.put('session-a', ERROR);

    expect(store.take('session-b', id)).toBeUndefined();
    expect(store.take(undefined, id)).toBeUndefined();
    expect(store.take('session-a', id)).toEqual(ERROR);
  });

  it('drops an expired flash', () => {
    let now = 0;
    const store = new FlashStore({ ttlMs: 1000, now: () => now });
    const id = store.put('session-a', ERROR);
    now = 1000;

    expect(store.take('session-a', id)).toBeUndefined();
  });

  it('drops the oldest flash when full', () => {
    const store = new FlashStore({ maxEntries: 2 });
    const first = store.put('session-a', ERROR);
    const second = store.put('session-a', ERROR);
    const third = store.put('session-a', ERROR);

    expect(store.take('session-a', first)).toBeUndefined();
    expect(store.take('session-a', second)).toEqual(ERROR);
    expect(store.take('session-a', third)).toEqual(ERROR);
  });
});

describe('flashText', () => {
  it('leads an error with the catalogue text', () => {
    expect(flashText(ERROR, 'zh')).toBe('操作失败：日期无效：请写成 年-月-日，例如 2025-05-06');
    expect(flashText(ERROR, 'en')).toBe('Failed: Invalid day: write it as year-month-day, for example 2025-05-06');
  });

  it('puts technical detail after the message', () => {
    const message = { kind: 'error' as const, messageId: 'ops.input.search' as const, detail: 'from: invalid time' };

    expect(flashText(message, 'zh')).toBe('操作失败：查询条件无效（from: invalid time）');
  });

  it('shows an uncatalogued error by its detail', () => {
    expect(flashText({ kind: 'error', detail: 'day 2025-05-06 is already settled' }, 'en')).toBe('Failed: day 2025-05-06 is already settled');
  });

  it('shows done for a bare success', () => {
    expect(flashText({ kind: 'ok' }, 'zh')).toBe('操作成功');
  });
});
