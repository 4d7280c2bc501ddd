// LeNet-5 at work: plain JavaScript, no build step. Talks to the server's JSON API (see README.md).
'use strict';

const $ = (id) => document.getElementById(id);

// ---------- Drawing ----------

const pad = $('pad');
const padContext = pad.getContext('2d', { willReadFrequently: true });
let drawing = false;
let last = null;
let hasInk = false;

function clearPad() {
  padContext.fillStyle = '#000';
  padContext.fillRect(0, 0, pad.width, pad.height);
  hasInk = false;
  $('sample-label').textContent = '';
  showEmpty();
}

function padPoint(event) {
  const box = pad.getBoundingClientRect();
  return { x: (event.clientX - box.left) * pad.width / box.width, y: (event.clientY - box.top) * pad.height / box.height };
}

function stroke(from, to) {
  padContext.strokeStyle = '#fff';
  padContext.fillStyle = '#fff';
  padContext.lineWidth = 20;
  padContext.lineCap = 'round';
  padContext.lineJoin = 'round';
  padContext.beginPath();
  padContext.moveTo(from.x, from.y);
  padContext.lineTo(to.x, to.y);
  padContext.stroke();
  hasInk = true;
}

pad.addEventListener('pointerdown', (event) => {
  event.preventDefault();
  pad.setPointerCapture(event.pointerId);
  drawing = true;
  last = padPoint(event);
  stroke(last, last);
  $('sample-label').textContent = '';
  requestPrediction();
});
pad.addEventListener('pointermove', (event) => {
  if (!drawing) return;
  const point = padPoint(event);
  stroke(last, point);
  last = point;
  requestPrediction();
});
const endStroke = () => { if (drawing) { drawing = false; requestPrediction(); } };
pad.addEventListener('pointerup', endStroke);
pad.addEventListener('pointercancel', endStroke);
$('clear').addEventListener('click', clearPad);

// A real test digit, drawn onto the pad (scaled up 10×), then processed like a drawing.
$('sample').addEventListener('click', async () => {
  const index = Math.floor(Math.random() * 2000);
  const response = await fetch(`api/digits/${index}`);
  if (!response.ok) return;
  const digit = await response.json();
  const small = document.createElement('canvas');
  small.width = 28; small.height = 28;
  const image = small.getContext('2d').createImageData(28, 28);
  digit.pixels.forEach((v, i) => {
    const g = Math.round(v * 255);
    image.data.set([g, g, g, 255], i * 4);
  });
  small.getContext('2d').putImageData(image, 0, 0);
  clearPad();
  padContext.imageSmoothingEnabled = true;
  padContext.drawImage(small, 0, 0, pad.width, pad.height);
  hasInk = true;
  $('sample-label').textContent = `test digit #${index}, labelled ${digit.label}`;
  requestPrediction();
});

// MNIST-style preprocessing: the ink's bounding box is scaled (area-averaged) so that its longer side is 20 pixels,
// then placed in a 28×28 field so that its centre of mass is at the centre. Returns 784 values in [0, 1], or null.
function toMnist() {
  const { width, height } = pad;
  const data = padContext.getImageData(0, 0, width, height).data;
  const ink = new Float32Array(width * height);
  let left = width, right = -1, top = height, bottom = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = data[(y * width + x) * 4] / 255;
      ink[y * width + x] = v;
      if (v > 0.05) {
        if (x < left) left = x;
        if (x > right) right = x;
        if (y < top) top = y;
        if (y > bottom) bottom = y;
      }
    }
  }
  if (right < 0) return null;
  const boxWidth = right - left + 1, boxHeight = bottom - top + 1;
  const scale = 20 / Math.max(boxWidth, boxHeight);
  const w = Math.max(1, Math.round(boxWidth * scale)), h = Math.max(1, Math.round(boxHeight * scale));
  const small = new Float32Array(w * h);
  for (let ty = 0; ty < h; ty++) {
    const y0 = top + Math.floor(ty / scale), y1 = Math.max(y0 + 1, top + Math.floor((ty + 1) / scale));
    for (let tx = 0; tx < w; tx++) {
      const x0 = left + Math.floor(tx / scale), x1 = Math.max(x0 + 1, left + Math.floor((tx + 1) / scale));
      let sum = 0, count = 0;
      for (let y = y0; y < Math.min(y1, height); y++) {
        for (let x = x0; x < Math.min(x1, width); x++) { sum += ink[y * width + x]; count++; }
      }
      small[ty * w + tx] = count ? sum / count : 0;
    }
  }
  let mass = 0, cx = 0, cy = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) { const v = small[y * w + x]; mass += v; cx += v * x; cy += v * y; }
  }
  if (mass === 0) return null;
  const dx = Math.round(13.5 - cx / mass), dy = Math.round(13.5 - cy / mass);
  const pixels = new Array(784).fill(0);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const X = x + dx, Y = y + dy;
      if (X >= 0 && X < 28 && Y >= 0 && Y < 28) pixels[Y * 28 + X] = Math.min(1, Math.max(0, small[y * w + x]));
    }
  }
  return pixels;
}

// ---------- Prediction and activations ----------

let inFlight = false;
let dirty = false;

function requestPrediction() {
  dirty = true;
  if (!inFlight) predictNow();
}

async function predictNow() {
  if (!hasInk) { dirty = false; showEmpty(); return; }
  const pixels = toMnist();
  dirty = false;
  if (!pixels) { showEmpty(); return; }
  drawInput(pixels);
  inFlight = true;
  try {
    const response = await fetch('api/activations', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ pixels }),
    });
    if (response.ok) {
      showActivations(await response.json());
    } else if (response.status === 503) {
      $('predicted').textContent = '…';
    }
  } finally {
    inFlight = false;
    if (dirty) predictNow();
  }
}

function drawInput(pixels) {
  const context = $('input').getContext('2d');
  const image = context.createImageData(28, 28);
  pixels.forEach((v, i) => { const g = Math.round(v * 255); image.data.set([g, g, g, 255], i * 4); });
  context.putImageData(image, 0, 0);
}

const barRows = [];
function buildBars() {
  const bars = $('bars');
  for (let k = 0; k < 10; k++) {
    const label = document.createElement('span'); label.textContent = k;
    const bar = document.createElement('div'); bar.className = 'bar'; bar.appendChild(document.createElement('div'));
    const value = document.createElement('span'); value.textContent = '';
    bars.append(label, bar, value);
    barRows.push({ bar, value });
  }
}

function showEmpty() {
  $('predicted').textContent = '–';
  $('predicted').dataset.class = '';
  barRows.forEach(({ bar, value }) => { bar.firstChild.style.width = '0'; bar.classList.remove('best'); value.textContent = ''; });
  $('input').getContext('2d').clearRect(0, 0, 28, 28);
}

let lastActivations = null;
function showActivations(result) {
  lastActivations = result;
  $('predicted').textContent = result.class;
  $('predicted').dataset.class = result.class;
  result.probabilities.forEach((p, k) => {
    barRows[k].bar.firstChild.style.width = `${(p * 100).toFixed(1)}%`;
    barRows[k].bar.classList.toggle('best', k === result.class);
    barRows[k].value.textContent = `${(p * 100).toFixed(1)}%`;
  });
  $('maps-version').textContent = `(network version ${result.version})`;
  drawMaps(result);
  drawFilters(result.filters);
}

// ---------- Feature maps ----------

const inferno = [[0, 0, 4], [40, 11, 84], [101, 21, 110], [159, 42, 99], [212, 72, 66], [245, 125, 21], [250, 193, 39], [252, 255, 164]];
function colour(t) {
  t = Math.min(1, Math.max(0, t)) * (inferno.length - 1);
  const i = Math.min(inferno.length - 2, Math.floor(t)), f = t - i;
  return inferno[i].map((c, j) => Math.round(c + (inferno[i + 1][j] - c) * f));
}
function diverging(t) { // -1 blue, 0 white, +1 red
  t = Math.min(1, Math.max(-1, t));
  return t < 0 ? [Math.round(255 * (1 + t)), Math.round(255 * (1 + t * 0.6)), 255] : [255, Math.round(255 * (1 - t * 0.6)), Math.round(255 * (1 - t))];
}

function mapCanvas(container, values, offset, w, h, scale, toRgb, title) {
  const canvas = document.createElement('canvas');
  canvas.width = w; canvas.height = h;
  canvas.className = 'map';
  canvas.style.width = `${w * scale}px`; canvas.style.height = `${h * scale}px`;
  if (title) canvas.title = title;
  const context = canvas.getContext('2d');
  const image = context.createImageData(w, h);
  for (let i = 0; i < w * h; i++) image.data.set([...toRgb(values[offset + i]), 255], i * 4);
  context.putImageData(image, 0, 0);
  container.appendChild(canvas);
  return canvas;
}

function denseCanvas(container, values, name) {
  const canvas = document.createElement('canvas');
  const barWidth = values.length > 20 ? 4 : 24;
  canvas.width = values.length * barWidth; canvas.height = 60;
  canvas.className = 'dense map-dense';
  canvas.dataset.layer = name;
  const context = canvas.getContext('2d');
  const max = Math.max(1e-6, ...values);
  values.forEach((v, i) => {
    const h = Math.round(58 * v / max);
    context.fillStyle = name === 'fc3' ? '#1f9d55' : '#2f6fdd';
    context.fillRect(i * barWidth, 60 - h, barWidth - 1, h);
  });
  container.appendChild(canvas);
}

const scales = { conv1: 3, pool1: 5, conv2: 6, pool2: 10 };
function drawMaps(result) {
  const maps = $('maps');
  maps.replaceChildren();
  for (const layer of result.layers) {
    const row = document.createElement('div'); row.className = 'layer-maps';
    const name = document.createElement('div'); name.className = 'name';
    name.innerHTML = `<b>${layer.name}</b>${layer.shape.join('×')}`;
    const body = document.createElement('div'); body.className = 'maps-row'; body.dataset.layer = layer.name;
    row.append(name, body);
    maps.appendChild(row);
    if (layer.shape.length === 3) {
      const [channels, h, w] = layer.shape;
      const max = Math.max(1e-6, ...layer.values);
      for (let c = 0; c < channels; c++) {
        mapCanvas(body, layer.values, c * h * w, w, h, scales[layer.name] || 4, (v) => colour(v / max), `${layer.name} channel ${c}`);
      }
    } else {
      denseCanvas(body, layer.values, layer.name);
    }
  }
}

function drawFilters(filters) {
  const container = $('filters');
  container.replaceChildren();
  const max = Math.max(1e-6, ...filters.values.map(Math.abs));
  for (let f = 0; f < filters.shape[0]; f++) {
    mapCanvas(container, filters.values, f * 25, 5, 5, 12, (v) => diverging(v / max), `conv1 filter ${f}`);
  }
}

// ---------- Layers and their generated code ----------

async function loadLayers() {
  const network = await (await fetch('api/network')).json();
  const body = $('layers').querySelector('tbody');
  for (const layer of network.layers) {
    const row = document.createElement('tr');
    row.innerHTML = `<td>${layer.description}</td><td>${layer.output}</td><td>${layer.parameters.toLocaleString('en-US')}</td>`;
    if (layer.name !== 'input' && layer.name !== 'total') {
      row.className = 'clickable';
      row.dataset.layer = layer.name;
      row.addEventListener('click', () => showCode(layer.name, row));
    }
    body.appendChild(row);
  }
}

function escapeHtml(text) {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
function highlight(text) {
  return escapeHtml(text).split('\n').map((line) => line.replace(/(\/\/.*)$/, '<span class="comment">$1</span>')).join('\n');
}

async function showCode(layer, row) {
  document.querySelectorAll('#layers tr.selected').forEach((r) => r.classList.remove('selected'));
  row.classList.add('selected');
  const result = await (await fetch(`api/code/${layer}`)).json();
  const code = $('code');
  code.replaceChildren();
  code.dataset.layer = layer;
  const title = document.createElement('p');
  title.className = 'small';
  title.textContent = `${layer}: ${result.methods.length} generated methods. The scalar forward and backward methods are the definition; the vector kernels (collapsed) compute the same thing with AVX-512 or AVX2.`;
  code.appendChild(title);
  for (const method of result.methods) {
    const pre = document.createElement('pre');
    pre.innerHTML = highlight(method.text);
    const heading = `${method.name} (line ${method.line} of the generated file)`;
    if (/Vector(512|256)$/.test(method.name) || /Rotate/.test(method.name)) {
      const details = document.createElement('details');
      const summary = document.createElement('summary'); summary.textContent = heading;
      details.append(summary, pre);
      code.appendChild(details);
    } else {
      const h = document.createElement('h4'); h.textContent = heading;
      code.append(h, pre);
    }
  }
}

// ---------- Training ----------

let runId = -1;
let points = [];
let testAccuracies = [];
let epochsOfRun = 1;
let batchesPerEpoch = 250;
let version = -1;

function onStatus(status) {
  const statusLine = $('status');
  statusLine.dataset.ready = status.ready;
  statusLine.textContent = status.ready ? `ready: network v${status.version}, ${status.network}` : `not ready yet: ${status.startup}`;
  const run = status.training;
  if (run) {
    if (run.id !== runId) { runId = run.id; points = []; }
    if (run.pointsFrom === points.length) points.push(...run.points);
    testAccuracies = run.testAccuracies;
    epochsOfRun = run.epochs;
    batchesPerEpoch = run.batches;
    const running = run.state === 'running';
    $('train').disabled = running;
    $('cancel').disabled = !running;
    $('progress').value = run.progress;
    const lastTest = testAccuracies.length ? `, test accuracy ${(testAccuracies[testAccuracies.length - 1] * 100).toFixed(2)}%` : '';
    const what = run.kind === 'startup' ? 'first network' : 'live training';
    $('train-text').textContent = `${what} (run ${run.id}), ${run.state}: epoch ${run.epoch} of ${run.epochs}, batch ${run.batch} of ${run.batches}, `
      + `${Math.round(run.imagesPerSecond).toLocaleString('en-US')} img/s${lastTest}${run.message && run.state === 'failed' ? ` — ${run.message}` : ''}`;
    $('train-text').dataset.state = run.state;
    drawCurves();
  }
  if (status.version !== version) {
    version = status.version;
    if (status.ready && hasInk) requestPrediction(); // watch the maps change as the weights are swapped in
  }
}

function drawCurves() {
  const canvas = $('curves');
  const context = canvas.getContext('2d');
  const { width, height } = canvas;
  const left = 40, right = 40, top = 10, bottom = 22;
  const plotWidth = width - left - right, plotHeight = height - top - bottom;
  context.clearRect(0, 0, width, height);
  context.font = '11px system-ui, sans-serif';
  context.strokeStyle = '#d9dee6';
  context.fillStyle = '#5d6675';
  for (let i = 0; i <= 4; i++) {
    const y = top + plotHeight * i / 4;
    context.beginPath(); context.moveTo(left, y); context.lineTo(left + plotWidth, y); context.stroke();
    context.fillText((2.5 * (1 - i / 4)).toFixed(2), 4, y + 4);
    context.fillText(`${100 - 25 * i}%`, left + plotWidth + 4, y + 4);
  }
  const total = Math.max(1, epochsOfRun * batchesPerEpoch);
  for (let e = 1; e <= epochsOfRun; e++) {
    const x = left + plotWidth * e * batchesPerEpoch / total;
    context.fillText(`${e}`, x - 3, height - 6);
  }
  const xOf = (step) => left + plotWidth * step / total;
  const series = (value, max, colour, alpha) => {
    context.strokeStyle = colour; context.globalAlpha = alpha; context.beginPath();
    points.forEach((p, i) => {
      const x = xOf(p.step), y = top + plotHeight * (1 - Math.min(1, value(p, i) / max));
      if (i === 0) context.moveTo(x, y); else context.lineTo(x, y);
    });
    context.stroke(); context.globalAlpha = 1;
  };
  const mean = (key) => (p, i) => {
    let sum = 0, n = 0;
    for (let j = Math.max(0, i - 19); j <= i; j++) { sum += points[j][key]; n++; }
    return sum / n;
  };
  series((p) => p.loss, 2.5, '#d9480f', 0.25);
  series((p) => p.accuracy, 1, '#2f6fdd', 0.25);
  series(mean('loss'), 2.5, '#d9480f', 1);
  series(mean('accuracy'), 1, '#2f6fdd', 1);
  context.fillStyle = '#1f9d55';
  testAccuracies.forEach((a, e) => {
    context.beginPath(); context.arc(xOf((e + 1) * batchesPerEpoch), top + plotHeight * (1 - a), 4, 0, 2 * Math.PI); context.fill();
  });
}

$('train').addEventListener('click', async () => {
  const epochs = Number($('epochs').value) || 5;
  const response = await fetch('api/train', {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ epochs, fresh: $('fresh').checked }),
  });
  if (!response.ok) {
    const problem = await response.json();
    $('train-text').textContent = problem.detail || problem.title;
  }
});
$('cancel').addEventListener('click', () => fetch('api/train/cancel', { method: 'POST' }));

// ---------- Start ----------

buildBars();
clearPad();
drawCurves();
loadLayers();
const events = new EventSource('api/train/events');
events.addEventListener('status', (event) => onStatus(JSON.parse(event.data)));
events.onerror = () => { $('status').textContent = 'connection to the server lost; retrying…'; $('status').dataset.ready = 'false'; };
