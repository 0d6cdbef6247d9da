import { ReaderIoError } from '../../ports/card-reader.js';
import { ACK_FRAME, NACK_FRAME, type Pn532Frame, Pn532FrameDecoder, TFI_HOST_TO_PN532, TFI_PN532_TO_HOST, encodeFrame } from './pn532-frame.js';

/** The byte pipe under the link: a serial port in service, anything with write and data in tests. */
export interface Pn532Port {
  write(bytes: Uint8Array): void;
}

export interface Pn532LinkOptions {
  /** Milliseconds to wait for the ACK of a command frame. The PN532 sends it within about 1 ms. */
  ackTimeoutMs: number;
  /** Default milliseconds to wait for a response frame after the ACK. */
  responseTimeoutMs: number;
  /** Called with each frame that failed a checksum, for the log. */
  onInvalidFrame?: (reason: string) => void;
}

interface Waiter {
  expect: 'ack' | 'response';
  code: number;
  resolve(frame: Pn532Frame): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/** NACKs sent for one response before the link gives up on it. */
const MAX_RESPONSE_RETRIES = 2;

/**
 * Command and response exchange with a PN532 over a byte pipe. It sends one command at a time and
 * waits for the module's ACK and then its response. After a NACK from the module it resends the
 * command once. When a frame that carries the awaited response code fails its data checksum, it
 * sends a NACK so that the module resends the response, as the manual allows. A missing ACK or
 * response raises ReaderIoError, and the link aborts the command with an ACK so that the module
 * is ready for the next one.
 */
export class Pn532Link {
  private readonly decoder = new Pn532FrameDecoder();
  private queue: Promise<unknown> = Promise.resolve();
  private waiter: Waiter | undefined;
  /** Frames received while no command waits, because a response often comes in the same read as its ACK. */
  private inbox: Pn532Frame[] = [];
  private closedReason: string | undefined;

  constructor(
    private readonly port: Pn532Port,
    private readonly options: Pn532LinkOptions,
  ) {}

  /** Feeds bytes read from the port. */
  receive(chunk: Uint8Array): void {
    for (const frame of this.decoder.push(chunk)) this.onFrame(frame);
  }

  /** Fails the command in progress and every later one, for a port that closed. */
  close(reason: string): void {
    this.closedReason = reason;
    this.fail(new ReaderIoError(reason));
  }

  /** Accepts commands again on a reopened port, dropping any partial frame of the old one. */
  reopen(): void {
    this.closedReason = undefined;
    this.decoder.reset();
  }

  /** Writes raw bytes (the wake-up preamble) outside any command. */
  writeRaw(bytes: Uint8Array): void {
    this.port.write(bytes);
  }

  /**
   * Sends a command and resolves with the response's data after its response code. Commands are
   * queued, so callers may overlap.
   */
  command(code: number, params: Uint8Array = new Uint8Array(0), responseTimeoutMs = this.options.responseTimeoutMs): Promise<Uint8Array> {
    const run = this.queue.then(() => this.run(code, params, responseTimeoutMs));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async run(code: number, params: Uint8Array, responseTimeoutMs: number): Promise<Uint8Array> {
    if (this.closedReason !== undefined) throw new ReaderIoError(this.closedReason);
    const frame = encodeFrame(TFI_HOST_TO_PN532, Uint8Array.from([code, ...params]));
    const name = `command ${hexByte(code)}`;
    // Whatever is left belongs to an earlier, aborted command.
    this.inbox = [];
    let ack = await this.send(frame, 'ack', code, this.options.ackTimeoutMs, name);
    if (ack.kind === 'nack') ack = await this.send(frame, 'ack', code, this.options.ackTimeoutMs, name);
    if (ack.kind === 'nack') throw new ReaderIoError(`PN532 rejected ${name} twice with NACK: check the baud rate and the wiring`);
    if (ack.kind === 'error') throw new ReaderIoError(`PN532 reported a syntax error for ${name}`);

    for (let attempt = 0; ; attempt += 1) {
      const response = await this.wait('response', code, responseTimeoutMs, name);
      if (response.kind === 'error') throw new ReaderIoError(`PN532 reported a syntax error for ${name}`);
      if (response.kind === 'info') return response.data.slice(1);
      if (attempt >= MAX_RESPONSE_RETRIES) throw new ReaderIoError(`PN532 response to ${name} failed its checksum ${attempt + 1} times`);
      // Ask for the response again.
      this.port.write(NACK_FRAME);
    }
  }

  private send(frame: Uint8Array, expect: 'ack', code: number, timeoutMs: number, name: string): Promise<Pn532Frame> {
    const waiting = this.wait(expect, code, timeoutMs, name);
    this.port.write(frame);
    return waiting;
  }

  private wait(expect: 'ack' | 'response', code: number, timeoutMs: number, name: string): Promise<Pn532Frame> {
    while (this.inbox.length > 0) {
      const frame = this.inbox.shift()!;
      if (matches(frame, expect, code)) return Promise.resolve(frame);
    }
    return new Promise<Pn532Frame>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        // An ACK from the host aborts the command the PN532 is still working on.
        this.port.write(ACK_FRAME);
        reject(new ReaderIoError(`PN532 sent no ${expect === 'ack' ? 'ACK' : 'response'} to ${name} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiter = { expect, code, resolve, reject, timer };
    });
  }

  private onFrame(frame: Pn532Frame): void {
    const waiter = this.waiter;
    if (frame.kind === 'invalid') this.options.onInvalidFrame?.(frame.reason);
    if (!waiter) {
      if (this.inbox.length < 8) this.inbox.push(frame);
      return;
    }
    if (!matches(frame, waiter.expect, waiter.code)) return;
    clearTimeout(waiter.timer);
    this.waiter = undefined;
    waiter.resolve(frame);
  }

  private fail(error: Error): void {
    const waiter = this.waiter;
    if (!waiter) return;
    clearTimeout(waiter.timer);
    this.waiter = undefined;
    waiter.reject(error);
  }
}

/**
 * Checks whether a frame is the one the link waits for. A response frame for another command is a
 * late response to an aborted command, so it is skipped. An error frame ends the wait. A damaged
 * frame ends it only when its header and its first bytes (TFI D5, the expected response code)
 * show it is the awaited response, so that the link requests that response again. Other damaged
 * frames are line noise. A NACK sent for noise while the module is still working could make the
 * module resend its previous response, which the link would then take as this command's response.
 */
function matches(frame: Pn532Frame, expect: 'ack' | 'response', code: number): boolean {
  if (expect === 'ack') return frame.kind === 'ack' || frame.kind === 'nack' || frame.kind === 'error';
  if (frame.kind === 'info') return frame.tfi === TFI_PN532_TO_HOST && frame.data[0] === code + 1;
  if (frame.kind === 'invalid') return frame.tfi === TFI_PN532_TO_HOST && frame.code === code + 1;
  return frame.kind === 'error';
}

function hexByte(value: number): string {
  return value.toString(16).padStart(2, '0').toUpperCase();
}
