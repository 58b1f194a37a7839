// Draw-a-digit: strokes on a 280x280 canvas become one 28x28 MNIST-like image (the digit's bounding box scaled
// to fit 20x20, placed in 28x28 with its centre of mass at the centre, pixels 0..1), POSTed to /predict.
'use strict';

const pad = document.getElementById('pad');
let labels = null;   // the model's class labels (GET /model), one per bar
const ink = pad.getContext('2d');
let drawing = false;

function clearPad() {
  ink.fillStyle = '#000';
  ink.fillRect(0, 0, pad.width, pad.height);
  document.getElementById('answer').textContent = '';
  document.getElementById('bars').innerHTML = '';
}

function at(event) {
  const box = pad.getBoundingClientRect();
  return [(event.clientX - box.left) * pad.width / box.width, (event.clientY - box.top) * pad.height / box.height];
}

pad.addEventListener('pointerdown', event => {
  drawing = true;
  pad.setPointerCapture(event.pointerId);
  const [x, y] = at(event);
  ink.beginPath();
  ink.moveTo(x, y);
});
pad.addEventListener('pointermove', event => {
  if (!drawing) return;
  const [x, y] = at(event);
  ink.lineTo(x, y);
  ink.strokeStyle = '#fff';
  ink.lineWidth = 20;
  ink.lineCap = 'round';
  ink.lineJoin = 'round';
  ink.stroke();
});
pad.addEventListener('pointerup', () => { drawing = false; predict(); });
document.getElementById('clear').addEventListener('click', clearPad);

/** The drawing as 784 floats in 0..1, MNIST's way: bounding box to 20x20 (aspect kept), centre of mass to the centre of 28x28. */
function mnistPixels() {
  const { width, height } = pad;
  const rgba = ink.getImageData(0, 0, width, height).data;
  let top = height, left = width, bottom = -1, right = -1;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      if (rgba[4 * (y * width + x)] > 0) { top = Math.min(top, y); bottom = Math.max(bottom, y); left = Math.min(left, x); right = Math.max(right, x); }
  if (bottom < 0) return null;

  const boxWidth = right - left + 1, boxHeight = bottom - top + 1;
  const scale = 20 / Math.max(boxWidth, boxHeight);
  const w = Math.max(1, Math.round(boxWidth * scale)), h = Math.max(1, Math.round(boxHeight * scale));
  const small = document.createElement('canvas');
  small.width = w; small.height = h;
  const smallInk = small.getContext('2d');
  smallInk.imageSmoothingEnabled = true;
  smallInk.imageSmoothingQuality = 'high';
  smallInk.drawImage(pad, left, top, boxWidth, boxHeight, 0, 0, w, h);
  const fitted = smallInk.getImageData(0, 0, w, h).data;

  // Centre of mass of the fitted digit, then its offset into 28x28.
  let mass = 0, mx = 0, my = 0;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) { const v = fitted[4 * (y * w + x)] / 255; mass += v; mx += v * x; my += v * y; }
  const dx = Math.round(14 - mx / mass), dy = Math.round(14 - my / mass);

  const pixels = new Array(784).fill(0);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const tx = x + dx, ty = y + dy;
      if (tx >= 0 && tx < 28 && ty >= 0 && ty < 28) pixels[ty * 28 + tx] = fitted[4 * (y * w + x)] / 255;
    }
  return pixels;
}

async function predict() {
  const pixels = mnistPixels();
  if (!pixels) return;
  const error = document.getElementById('error');
  error.textContent = '';
  try {
    const response = await fetch('predict', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(pixels) });
    const body = await response.json();
    if (!response.ok) { error.textContent = `${body.title}: ${body.detail}`; return; }
    show(body);
  } catch (e) {
    error.textContent = `The service did not answer: ${e}`;
  }
}

function show(prediction) {
  const bars = document.getElementById('bars');
  bars.innerHTML = '';
  prediction.probabilities.forEach((p, c) => {
    const row = document.createElement('div');
    row.className = 'bar' + (c === prediction.class ? ' best' : '');
    row.dataset.class = c;
    const name = document.createElement('span');
    name.className = 'name';
    name.textContent = labels?.[c] ?? c;
    const fill = document.createElement('span');
    fill.className = 'fill';
    fill.style.width = `${Math.max(1, p * 200)}px`;
    const value = document.createElement('span');
    value.textContent = `${(100 * p).toFixed(1)}%`;
    row.append(name, fill, value);
    bars.append(row);
  });
  document.getElementById('answer').textContent = prediction.label ?? prediction.class;
  document.getElementById('answer').dataset.class = prediction.class;
  document.getElementById('model').textContent = `model version ${prediction.modelVersion}`;
}

async function loadModel() {
  try {
    const model = await (await fetch('model')).json();
    labels = model.classLabels;
    document.getElementById('model').textContent = `model version ${model.version}, ${model.file}`;
  } catch (e) {
    labels = null;   // bars are numbered instead
  }
}

clearPad();
loadModel();
