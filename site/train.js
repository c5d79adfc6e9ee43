/**
 * Page (b): TensorFlow-Playground-style training of a small MLP on 2-D data. The training runs in
 * a Worker (train-worker.js); this page draws what it reports: the decision heatmap and the points
 * (a 2-D canvas), the train and test losses, and the weights as edge widths. `#run` in the address
 * starts training at load and stops after `STEPS_WHEN_RUN` steps (how the tests see the page).
 */
const $ = (id) => document.getElementById(id);
const STEPS_PER_MESSAGE = 20;
const STEPS_WHEN_RUN = 1200;
const CLASS_COLORS = [
  [31, 119, 180],
  [255, 127, 14],
  [44, 160, 44],
];

let worker = null;
let running = false;
const history = { step: [], train: [], test: [] };

function config() {
  const hidden = $('hidden')
    .value.split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  if (!hidden.every((h) => Number.isInteger(h) && h > 0 && h <= 64))
    throw new Error('hidden: sizes from 1 to 64, separated by commas, e.g. 8,8');
  const number = (id) => Number($(id).value);
  return {
    dataset: $('dataset').value,
    noise: number('noise'),
    trainShare: number('trainShare'),
    hidden,
    activation: $('activation').value,
    loss: $('loss').value,
    optimizer: $('optimizer').value,
    lr: number('lr'),
    batchSize: Math.max(1, Math.round(number('batchSize'))),
    mode: $('mode').value,
    device: $('device').value,
    seed: 1,
  };
}

function showCode(c) {
  const layers = [2, ...c.hidden, '(classes)']
    .slice(0, -1)
    .map((n, i, all) => `new nb.nn.Linear(${n}, ${i + 1 < all.length ? all[i + 1] : 'classes'})`);
  const act = { tanh: 'Tanh', relu: 'ReLU', sigmoid: 'Sigmoid' }[c.activation];
  $('code').textContent = [
    `const model = new nb.nn.Sequential(${layers.join(`, new nb.nn.${act}(), `)});`,
    `const opt = new nb.optim.${c.optimizer === 'adam' ? 'Adam' : 'SGD'}(model.parameters(), { lr: ${c.lr} });`,
    `const step = ${c.mode === 'jit' ? 'nb.jit(' : ''}(x, y) => {`,
    `  const loss = ${c.loss === 'mse' ? 'nb.nn.functional.mse(model.forward(x).softmax(1), oneHot(y))' : 'nb.nn.functional.crossEntropy(model.forward(x), y)'};`,
    '  opt.zeroGrad(); loss.backward(); opt.step();',
    `  return loss;\n}${c.mode === 'jit' ? ')' : ''};`,
    `for (const [x, y] of new nb.data.DataLoader(train, { batchSize: ${c.batchSize}, shuffle: true })) step(x, y);`,
    c.device === 'webgpu'
      ? "// device webgpu: await nb.useDevice('webgpu') first; losses are read with await loss.itemAsync()"
      : '',
    c.mode === 'tf1'
      ? '// mode tf1: the same network built with nabla/tf1 and run by a Session'
      : '',
  ].join('\n');
}

function reset() {
  worker?.terminate();
  running = false;
  $('start').textContent = 'Start';
  history.step.length = history.train.length = history.test.length = 0;
  $('message').textContent = '';
  let c;
  try {
    c = config();
  } catch (error) {
    $('message').textContent = error.message;
    return;
  }
  showCode(c);
  worker = new Worker(new URL('./train-worker.js', import.meta.url), { type: 'module' });
  worker.onmessage = ({ data }) => (data.type === 'error' ? failed(data.message) : progress(data));
  worker.onerror = (event) => failed(event.message);
  worker.postMessage({ type: 'setup', config: c });
}

function failed(text) {
  running = false;
  $('start').textContent = 'Start';
  $('message').textContent = text;
}

function progress(report) {
  history.step.push(report.step);
  history.train.push(report.trainLoss);
  history.test.push(report.testLoss);
  drawHeatmap(report);
  drawLosses();
  drawNetwork(report.weights);
  $('status').textContent =
    `step ${report.step}   train loss ${report.trainLoss.toFixed(4)}   test loss ${report.testLoss.toFixed(4)}   test accuracy ${report.testAccuracy.toFixed(3)}`;
  document.body.dataset.accuracy = String(report.testAccuracy);
  $('footer').textContent =
    `Runs on: ${report.runsOn}, in a Worker (cross-origin isolated: ${globalThis.crossOriginIsolated ? 'yes' : 'no'}); webgpu: ${hasWebGpu ? 'available in this browser' : 'not in this browser'}.`;
  document.body.dataset.step = String(report.step);
  const done = location.hash === '#run' && report.step >= STEPS_WHEN_RUN;
  if (done) running = false;
  if (running) worker.postMessage({ type: 'train', steps: STEPS_PER_MESSAGE });
}

function drawHeatmap({ grid, gridSize, classes, points, extent }) {
  const canvas = $('heatmap');
  const ctx = canvas.getContext('2d');
  const image = ctx.createImageData(gridSize, gridSize);
  for (let i = 0; i < gridSize * gridSize; i++) {
    // Two classes: shade by probability; more: the predicted class's colour.
    const [a, b] =
      classes === 2 ? [CLASS_COLORS[0], CLASS_COLORS[1]] : [CLASS_COLORS[grid[i]], null];
    const t = classes === 2 ? grid[i] : 1;
    for (let k = 0; k < 3; k++)
      image.data[4 * i + k] = b
        ? 255 - (255 - a[k]) * (1 - t) * 0.5 - (255 - b[k]) * t * 0.5
        : 255 - (255 - a[k]) * 0.4;
    image.data[4 * i + 3] = 255;
  }
  // Drawn at grid size, then scaled up to the canvas.
  const small = new OffscreenCanvas(gridSize, gridSize);
  small.getContext('2d').putImageData(image, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(small, 0, 0, canvas.width, canvas.height);
  const [lo, hi] = extent;
  const toPixel = (v, flip) => ((flip ? hi - v : v - lo) / (hi - lo)) * canvas.width;
  for (const [set, stroke] of [
    [points.train, 'white'],
    [points.test, 'black'],
  ]) {
    const [xs, ys] = set;
    xs.forEach(([px, py], i) => {
      ctx.beginPath();
      ctx.arc(toPixel(px, false), toPixel(py, true), 3, 0, 2 * Math.PI);
      ctx.fillStyle = `rgb(${CLASS_COLORS[ys[i]].join(',')})`;
      ctx.fill();
      ctx.strokeStyle = stroke;
      ctx.stroke();
    });
  }
}

function drawLosses() {
  const canvas = $('losses');
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = 'white';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  const all = [...history.train, ...history.test].filter(Number.isFinite);
  const top = Math.max(...all, 1e-6);
  const n = history.train.length;
  [
    [history.train, '#1f77b4', 'train loss'],
    [history.test, '#ff7f0e', 'test loss'],
  ].forEach(([values, color, name], k) => {
    ctx.strokeStyle = color;
    ctx.beginPath();
    values.forEach((v, i) => {
      const x = 30 + ((canvas.width - 40) * i) / Math.max(1, n - 1);
      const y = canvas.height - 20 - ((canvas.height - 40) * v) / top;
      if (i === 0) ctx.moveTo(x, y);
      else ctx.lineTo(x, y);
    });
    ctx.stroke();
    ctx.fillStyle = color;
    ctx.fillText(name, canvas.width - 80, 16 + 14 * k);
  });
  ctx.fillStyle = '#444';
  ctx.fillText(top.toPrecision(3), 2, 22);
  ctx.fillText('0', 2, canvas.height - 20);
}

function drawNetwork(weights) {
  const sizes = [weights[0].length, ...weights.map((w) => w[0].length)];
  const [width, height] = [300, 240];
  const x = (layer) => 20 + (layer * (width - 40)) / (sizes.length - 1);
  const y = (layer, i) => 20 + ((i + 0.5) * (height - 40)) / sizes[layer];
  const largest = Math.max(...weights.flat(2).map(Math.abs), 1e-6);
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">`];
  weights.forEach((w, layer) =>
    w.forEach((row, i) =>
      row.forEach((v, j) => {
        const stroke = v >= 0 ? '#1f77b4' : '#ff7f0e';
        const thickness = (0.3 + (3 * Math.abs(v)) / largest).toFixed(2);
        parts.push(
          `<line x1="${x(layer)}" y1="${y(layer, i)}" x2="${x(layer + 1)}" y2="${y(layer + 1, j)}" stroke="${stroke}" stroke-width="${thickness}" opacity="0.7"/>`,
        );
      }),
    ),
  );
  sizes.forEach((n, layer) => {
    for (let i = 0; i < n; i++)
      parts.push(`<circle cx="${x(layer)}" cy="${y(layer, i)}" r="5" fill="white" stroke="#333"/>`);
  });
  parts.push('</svg>');
  $('network').innerHTML = parts.join('');
}

function start() {
  if (!worker) return;
  running = !running;
  $('start').textContent = running ? 'Pause' : 'Start';
  if (running) worker.postMessage({ type: 'train', steps: STEPS_PER_MESSAGE });
}

$('start').addEventListener('click', start);
$('stepOnce').addEventListener('click', () => worker?.postMessage({ type: 'train', steps: 1 }));
$('reset').addEventListener('click', reset);
for (const control of $('controls').querySelectorAll('input, select'))
  control.addEventListener('change', reset);
const hasWebGpu = 'gpu' in globalThis.navigator;
if (!hasWebGpu) $('device').querySelector('option[value="webgpu"]').disabled = true;

reset();
if (location.hash === '#run') start();
