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

/** A rectangle of the page in CSS pixels. */
export interface Rect { readonly x: number; readonly y: number; readonly width: number; readonly height: number }

/**
 * One page of a headless Chromium, kept open for a sequence of steps: evaluate expressions, wait for a
 * condition, move and press the mouse (Input.dispatchMouseEvent: the page sees real pointer events), give a
 * file input its files (DOM.setFileInputFiles, as a user's choice would), and capture PNG screenshots.
 */
export class Page {
  private constructor(private readonly browser: Browser, private readonly sessionId: string) {}

  /** Opens `url` in a new headless Chromium with a viewport of width × height CSS pixels at scale 1. */
  static async open(url: string, o: { userDataDir: string; width?: number; height?: number }): Promise<Page> {
    const browser = new Browser(o.userDataDir);
    try {
      const { targetId } = await browser.send<{ targetId: string }>('Target.createTarget', { url: 'about:blank' });
      const { sessionId } = await browser.send<{ sessionId: string }>('Target.attachToTarget', { targetId, flatten: true });
      const page = new Page(browser, sessionId);
      await page.send('Emulation.setDeviceMetricsOverride', { width: o.width ?? 1280, height: o.height ?? 1000, deviceScaleFactor: 1, mobile: false });
      await page.send('Page.navigate', { url });
      return page;
    } catch (e) {
      await browser.close();
      throw e;
    }
  }

  private send<T>(method: string, params: object = {}): Promise<T> {
    return this.browser.send<T>(method, params, this.sessionId);
  }

  /** The value of an expression in the page (promises awaited); an exception in the page is an error here. */
  async evaluate<T = unknown>(expression: string): Promise<T> {
    const r = await this.send<{ result: { value?: unknown }; exceptionDetails?: { text: string; exception?: { description?: string } } }>(
      'Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
    if (r.exceptionDetails) throw new Error(`page: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
    return r.result.value as T;
  }

  /** Waits until `expression` is true in the page (polled every 50 ms, at most timeoutMs). */
  async waitFor(expression: string, timeoutMs: number): Promise<void> {
    for (const deadline = Date.now() + timeoutMs; ; await sleep(50)) {
      if (await this.evaluate(expression).catch(() => false)) return;
      if (Date.now() > deadline) throw new Error(`chromium: not true after ${timeoutMs} ms: ${expression}`);
    }
  }

  /** The bounding box of the first element matching `selector`, in CSS pixels of the page. */
  async box(selector: string): Promise<Rect> {
    const r = await this.evaluate<Rect | null>(`(() => { const e = document.querySelector(${JSON.stringify(selector)}); if (!e) return null;
      const b = e.getBoundingClientRect(); return { x: b.x + scrollX, y: b.y + scrollY, width: b.width, height: b.height }; })()`);
    if (!r) throw new Error(`page: no element ${selector}`);
    return r;
  }

  /** A mouse stroke through the points (page CSS pixels): press at the first, move through the rest, release at the last. */
  async stroke(points: ReadonlyArray<readonly [number, number]>): Promise<void> {
    const [x0, y0] = points[0]!;
    await this.send('Input.dispatchMouseEvent', { type: 'mouseMoved', x: x0, y: y0 });
    await this.send('Input.dispatchMouseEvent', { type: 'mousePressed', x: x0, y: y0, button: 'left', buttons: 1, clickCount: 1 });
    for (const [x, y] of points.slice(1)) await this.send('Input.dispatchMouseEvent', { type: 'mouseMoved', x, y, button: 'left', buttons: 1 });
    const [x1, y1] = points[points.length - 1]!;
    await this.send('Input.dispatchMouseEvent', { type: 'mouseReleased', x: x1, y: y1, button: 'left', buttons: 0, clickCount: 1 });
  }

  /** A left click at (x, y). */
  async click(x: number, y: number): Promise<void> {
    await this.stroke([[x, y]]);
  }

  /** Gives the file input matching `selector` these files (absolute paths), which fires its change event. */
  async setFiles(selector: string, files: readonly string[]): Promise<void> {
    const r = await this.send<{ result: { objectId?: string } }>('Runtime.evaluate', { expression: `document.querySelector(${JSON.stringify(selector)})` });
    if (!r.result.objectId) throw new Error(`page: no element ${selector}`);
    await this.send('DOM.setFileInputFiles', { files, objectId: r.result.objectId });
  }

  /** A PNG screenshot of the clip (page CSS pixels; default the viewport). */
  async screenshot(clip?: Rect): Promise<Buffer> {
    const r = await this.send<{ data: string }>('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true, ...(clip ? { clip: { ...clip, scale: 1 } } : {}) });
    return Buffer.from(r.data, 'base64');
  }

  /** Closes the browser. */
  close(): Promise<void> {
    return this.browser.close();
  }
}
