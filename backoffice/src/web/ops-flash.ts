import { randomBytes } from 'node:crypto';
import { type Language, type UiTextId, uiText } from '@busfare/shared-protocol';

/** The outcome of a console action, shown once on the page the action redirects to. */
export interface FlashMessage {
  kind: 'ok' | 'error';
  /** Catalogue message; absent for an error the catalogue has no message for, shown by its detail. */
  messageId?: UiTextId;
  params?: Record<string, string | number>;
  /** Technical text shown after the translated message, such as a field path. */
  detail?: string;
}

export interface FlashStoreOptions {
  /** How long a flash waits for its page, in milliseconds. */
  ttlMs?: number;
  /** Flashes kept at most; the oldest is dropped first. */
  maxEntries?: number;
  now?: () => number;
}

/**
 * One-time messages kept on the server for the operator's session. A redirect carries only the
 * random id of a flash, so a link with text in its query cannot put words into the console's
 * banner: an id shows its message once, and only to the session that stored it.
 */
export class FlashStore {
  private readonly entries = new Map<string, { session: string; message: FlashMessage; expiresAt: number }>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(options: FlashStoreOptions = {}) {
    this.ttlMs = options.ttlMs ?? 5 * 60_000;
    this.maxEntries = options.maxEntries ?? 1000;
    this.now = options.now ?? Date.now;
  }

  /** Stores a message for a session and returns its id for the redirect's `flash` parameter. */
  put(session: string, message: FlashMessage): string {
    this.dropExpired();
    while (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
    const id = randomBytes(16).toString('hex');
    this.entries.set(id, { session, message, expiresAt: this.now() + this.ttlMs });
    return id;
  }

  /** Removes and returns the message with this id, if it belongs to the session and has not expired. */
  take(session: string | undefined, id: string | undefined): FlashMessage | undefined {
    if (session === undefined || id === undefined) return undefined;
    const entry = this.entries.get(id);
    if (!entry || entry.session !== session) return undefined;
    this.entries.delete(id);
    return entry.expiresAt > this.now() ? entry.message : undefined;
  }

  private dropExpired(): void {
    const now = this.now();
    for (const [id, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(id);
  }
}

/** Renders a flash in the operator's language: errors lead with "操作失败：" / "Failed:". */
export function flashText(message: FlashMessage, language: Language): string {
  const text = message.messageId === undefined ? undefined : uiText(message.messageId, language, message.params);
  if (message.kind === 'ok') return text ?? uiText('ops.done', language);
  if (text === undefined) return uiText('ops.error', language, { message: message.detail ?? '' });
  if (message.detail === undefined) return uiText('ops.error', language, { message: text });
  return uiText('ops.error.detail', language, { message: text, detail: message.detail });
}
