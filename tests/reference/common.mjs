// SPDX-License-Identifier: GPL-3.0-or-later
// Shared by the reference and benchmark scripts: loads face-api (the
// node-wasm build, which brings TensorFlow.js and its wasm backend) and
// decodes the fixture images into int32 HWC RGB tensors.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

export async function loadFaceapi(modulesDir, backend) {
  const require = createRequire(path.join(modulesDir, 'package.json'));
  const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js');
  const { PNG } = require('pngjs');
  await faceapi.tf.setBackend(backend);
  await faceapi.tf.ready();
  const modelDir = path.join(modulesDir, 'node_modules/@vladmandic/face-api/model');
  await faceapi.nets.tinyFaceDetector.loadFromDisk(modelDir);
  await faceapi.nets.faceLandmark68Net.loadFromDisk(modelDir);
  await faceapi.nets.faceRecognitionNet.loadFromDisk(modelDir);
  return { faceapi, PNG };
}

function pgmToRgb(buf) {
  // P5, whitespace-separated header, one byte a sample (maxval < 256).
  let pos = 2;
  const next = () => {
    while (/\s/.test(String.fromCharCode(buf[pos]))) pos++;
    let s = '';
    while (/\d/.test(String.fromCharCode(buf[pos]))) s += String.fromCharCode(buf[pos++]);
    return Number(s);
  };
  const width = next(); const height = next(); const maxval = next();
  pos++;
  if (maxval > 255) throw new Error('16-bit PGM not handled here');
  const rgb = new Int32Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    const v = Math.round((buf[pos + i] * 255) / maxval);
    rgb[3 * i] = v; rgb[3 * i + 1] = v; rgb[3 * i + 2] = v;
  }
  return { width, height, rgb };
}

export function decodeImage(PNG, file) {
  const buf = fs.readFileSync(file);
  if (buf[0] === 0x50 && buf[1] === 0x35) return pgmToRgb(buf);
  const png = PNG.sync.read(buf);
  const rgb = new Int32Array(png.width * png.height * 3);
  for (let i = 0; i < png.width * png.height; i++) {
    rgb[3 * i] = png.data[4 * i];
    rgb[3 * i + 1] = png.data[4 * i + 1];
    rgb[3 * i + 2] = png.data[4 * i + 2];
  }
  return { width: png.width, height: png.height, rgb };
}
