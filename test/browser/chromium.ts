/**
 * Opens a page in headless Chromium and reads a value out of it once the page says it is ready, over the
 * DevTools protocol on a pipe (--remote-debugging-pipe: JSON messages ended by a NUL byte, fd 3 in, fd 4
 * out). Real time is used throughout: virtual time (--virtual-time-budget with --dump-dom) does not wait
 * for Web Workers to start, so a page that starts them would be dumped half way.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';

/** Debian's Chromium; tests that need it are skipped where it is not installed. */
export const CHROMIUM = '/usr/bin/chromium';

const FLAGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--remote-debugging-pipe'];

type Pending = { resolve(v: unknown): void; reject(e: Error): void };

/** One Chromium process and its protocol pipe. */
class Browser {
  private readonly proc: ChildProcess;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private buffered = '';
  private stderr = '';
  readonly exited: Promise<void>;

  constructor(userDataDir: string) {
    this.proc = spawn(CHROMIUM, [...FLAGS, `--user-data-dir=${userDataDir}`, 'about:blank'], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
    this.proc.stderr!.setEncoding('utf8').on('data', (d: string) => { if (this.stderr.length < 8000) this.stderr += d; });
    const out = this.proc.stdio[4] as Readable;
    out.setEncoding('utf8').on('data', (d: string) => this.receive(d));
    this.exited = new Promise((done) => {
      const fail = (why: string): void => {
        for (const p of this.pending.values()) p.reject(new Error(`chromium ${why}; stderr: ${this.stderr.slice(-2000)}`));
        this.pending.clear();
        done();
      };
      this.proc.once('exit', (code) => fail(`exited with code ${code}`));
      this.proc.once('error', (e) => fail(`could not start: ${e.message}`));
    });
  }

  /** Splits the pipe's text into messages and settles the calls they answer. */
  private receive(text: string): void {
    this.buffered += text;
    for (let end = this.buffered.indexOf('\0'); end >= 0; end = this.buffered.indexOf('\0')) {
      const msg = JSON.parse(this.buffered.slice(0, end)) as { id?: number; result?: unknown; error?: { message: string } };
      this.buffered = this.buffered.slice(end + 1);
      const p = msg.id === undefined ? undefined : this.pending.get(msg.id);
      if (p === undefined) continue;
      this.pending.delete(msg.id!);
      if (msg.error) p.reject(new Error(msg.error.message));
      else p.resolve(msg.result);
    }
  }

  /** Sends one protocol command (to a page when sessionId is given) and resolves to its result. */
  send<T>(method: string, params: object = {}, sessionId?: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const id = ++this.nextId;
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      (this.proc.stdio[3] as Writable).write(JSON.stringify({ id, method, params, sessionId }) + '\0');
    });
  }

  /** Asks Chromium to close, then kills it if it has not exited within 3 s. */
  async close(): Promise<void> {
    this.send('Browser.close').catch(() => undefined);
    const late = setTimeout(() => this.proc.kill('SIGKILL'), 3000);
    await this.exited;
    clearTimeout(late);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

/**
 * Opens `url`, waits until the expression `ready` is true in the page (polled every 50 ms, at most
 * timeoutMs), then returns the value of the expression `value`.
 */
export async function pageValue(url: string, opts: { ready: string; value: string; timeoutMs: number; userDataDir: string }): Promise<unknown> {
  const browser = new Browser(opts.userDataDir);
  try {
    const { targetId } = await browser.send<{ targetId: string }>('Target.createTarget', { url });
    const { sessionId } = await browser.send<{ sessionId: string }>('Target.attachToTarget', { targetId, flatten: true });
    const evaluate = async (expression: string): Promise<unknown> =>
      (await browser.send<{ result: { value?: unknown } }>('Runtime.evaluate', { expression, returnByValue: true }, sessionId)).result.value;
    for (const deadline = Date.now() + opts.timeoutMs; ; await sleep(50)) {
      // a navigation under way can destroy the context an evaluation runs in: try again on the next poll
      if (await evaluate(opts.ready).catch(() => false)) return await evaluate(opts.value);
      if (Date.now() > deadline) throw new Error(`chromium: ${url} not ready after ${opts.timeoutMs} ms (${opts.ready})`);
    }
  } finally {
    await browser.close();
  }
}
