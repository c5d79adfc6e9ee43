/**
 * Page (c): the drawing pad and the probability bars; the model lives in digits-worker.js. The
 * pad is 280×280 and is averaged down to the 28×28 pixels the network reads.
 */
const $ = (id) => document.getElementById(id);
const worker = new Worker(new URL('./digits-worker.js', import.meta.url), { type: 'module' });
const pad = $('pad');
const ctx = pad.getContext('2d');
let drawing = false;
let ready = false;

/** The footer names what the worker runs on, as it reports it. */
function runsOn(what) {
  $('footer').textContent =
    `Runs on: ${what}, in a Worker (cross-origin isolated: ${globalThis.crossOriginIsolated ? 'yes' : 'no'}).`;
}

worker.onmessage = ({ data }) => {
  if (data.runsOn) runsOn(data.runsOn);
  if (data.type === 'progress') $('progress').value = data.done / data.total;
  else if (data.type === 'trained') {
    $('progress').value = 1;
    $('status').textContent = `test accuracy ${data.accuracy.toFixed(3)}`;
    document.body.dataset.accuracy = String(data.accuracy);
    ready = true;
    predict();
  } else if (data.type === 'loaded') {
    $('status').textContent = 'model loaded';
    ready = true;
    predict();
  } else if (data.type === 'prediction') bars(data.probabilities);
  else if (data.type === 'error') $('message').textContent = data.message;
};

function pixels() {
  const image = ctx.getImageData(0, 0, 280, 280).data;
  const out = new Float32Array(784);
  for (let r = 0; r < 28; r++)
    for (let c = 0; c < 28; c++) {
      let sum = 0;
      for (let dy = 0; dy < 10; dy++)
        for (let dx = 0; dx < 10; dx++) sum += image[4 * ((r * 10 + dy) * 280 + c * 10 + dx)];
      out[r * 28 + c] = sum / (100 * 255);
    }
  return out;
}

function predict() {
  if (ready) worker.postMessage({ type: 'predict', pixels: pixels() });
}

function bars(probabilities) {
  const best = probabilities.indexOf(Math.max(...probabilities));
  $('bars').innerHTML = probabilities
    .map(
      (p, digit) =>
        `<div data-digit="${digit}"${digit === best ? ' class="best"' : ''}>${digit} <span style="display:inline-block;height:14px;width:${Math.round(200 * p)}px;background:${digit === best ? '#d62728' : '#1f77b4'}"></span> ${p.toFixed(3)}</div>`,
    )
    .join('');
  document.body.dataset.best = String(best);
}

function clear() {
  ctx.fillStyle = 'black';
  ctx.fillRect(0, 0, 280, 280);
  predict();
}

function stroke(event) {
  if (!drawing) return;
  const box = pad.getBoundingClientRect();
  ctx.fillStyle = 'white';
  ctx.beginPath();
  ctx.arc(event.clientX - box.left, event.clientY - box.top, 11, 0, 2 * Math.PI);
  ctx.fill();
  predict();
}

pad.addEventListener('mousedown', (e) => {
  drawing = true;
  stroke(e);
});
pad.addEventListener('mousemove', stroke);
window.addEventListener('mouseup', () => (drawing = false));
$('clear').addEventListener('click', clear);
$('train').addEventListener('click', () => {
  $('message').textContent = '';
  $('status').textContent = 'training…';
  worker.postMessage({ type: 'train' });
});
$('file').addEventListener('change', async () => {
  const file = $('file').files[0];
  if (!file) return;
  $('message').textContent = '';
  worker.postMessage({ type: 'load', bytes: await file.arrayBuffer() });
});
runsOn('cpu');
clear();
