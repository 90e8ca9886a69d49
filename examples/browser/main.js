// Loads a pretrained model file in the browser and classifies what is drawn on a canvas.
import { initWasm, netFromBytes, Tensor, noGrad, ops } from 'edgespike/browser';

const MODEL = new URL('../../pretrained/lenet-mnist.es', import.meta.url);

await initWasm(); // fetches build/edgespike.wasm next to the compiled modules
const { net } = netFromBytes(new Uint8Array(await (await fetch(MODEL)).arrayBuffer()), MODEL.pathname);
const [, H, W] = net.config.input;

/** Classifies 28×28 pixels in [0, 1], light on dark as MNIST's; returns the class and its probability. */
function classify(pixels) {
  const logits = noGrad(() => net.forward(new Tensor(Float32Array.from(pixels), [1, 1, H, W]), { training: false }).logits);
  const p = ops.softmax(logits).toArray();
  const best = p.indexOf(Math.max(...p));
  return { class: best, probability: p[best] };
}

const pad = document.getElementById('pad'), ctx = pad.getContext('2d'), answer = document.getElementById('answer');
const clear = () => { ctx.fillStyle = '#000'; ctx.fillRect(0, 0, pad.width, pad.height); answer.textContent = 'draw a digit'; };
/** The canvas scaled to the model's input: the mean of each 10×10 block's red channel. */
function pixelsOfPad() {
  const small = document.createElement('canvas');
  small.width = W; small.height = H;
  const s = small.getContext('2d');
  s.drawImage(pad, 0, 0, W, H);
  const rgba = s.getImageData(0, 0, W, H).data;
  return Array.from({ length: W * H }, (_, i) => rgba[4 * i] / 255);
}
let drawing = false;
pad.addEventListener('pointerdown', (e) => { drawing = true; ctx.beginPath(); ctx.moveTo(e.offsetX, e.offsetY); });
pad.addEventListener('pointermove', (e) => {
  if (!drawing) return;
  ctx.strokeStyle = '#fff'; ctx.lineWidth = 22; ctx.lineCap = 'round';
  ctx.lineTo(e.offsetX, e.offsetY); ctx.stroke();
});
addEventListener('pointerup', () => {
  if (!drawing) return;
  drawing = false;
  const r = classify(pixelsOfPad());
  answer.textContent = `${r.class} (p = ${r.probability.toFixed(2)})`;
});
document.getElementById('clear').onclick = clear;
clear();
Object.assign(window, { classify, exampleReady: true });
