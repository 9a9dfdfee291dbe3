#!/usr/bin/env node
// SPDX-License-Identifier: GPL-3.0-or-later
//
// Times face-api 1.7.15's three networks on TensorFlow.js (wasm backend by
// default) on the same inputs `twinlockctl bench faces` uses: the detector
// at 416 on a fixture photo, the landmark net on the face crop, the
// recognition net on Twinlock's aligned 150×150 chip.  Median of many runs
// after warm-up; prints one JSON object.  Run through run-bench.sh.
import path from 'node:path';
import { loadFaceapi, decodeImage } from './common.mjs';

const [modulesDir, dataDir, backend = 'wasm', runsArg = '50'] = process.argv.slice(2);
const runs = Number(runsArg);
const { faceapi, PNG } = await loadFaceapi(modulesDir, backend);
const { tf } = faceapi;

const photo = decodeImage(PNG, path.join(dataDir, 'lfw-Abel_Pacheco_0001.png'));
const chip = decodeImage(PNG, path.join(dataDir, 'chips', 'lfw-Abel_Pacheco_0001-chip.png'));
const image = tf.tensor3d(photo.rgb, [photo.height, photo.width, 3], 'int32');
const chipT = tf.tensor3d(chip.rgb, [chip.height, chip.width, 3], 'int32');
const [det] = await faceapi.nets.tinyFaceDetector.locateFaces(image, new faceapi.TinyFaceDetectorOptions({ inputSize: 416, scoreThreshold: 0.3 }));
const [crop] = await faceapi.extractFaceTensors(image, [det]);

async function median(fn) {
  for (let i = 0; i < 5; i++) await fn();
  const t = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    t.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  t.sort((a, b) => a - b);
  return runs % 2 ? t[(runs - 1) / 2] : (t[runs / 2 - 1] + t[runs / 2]) / 2;
}

// Each call runs the network and waits for its output (data() syncs).
const detectorMs = await median(async () => {
  const out = await faceapi.nets.tinyFaceDetector.forward(image, 416);
  await out.data();
  out.dispose();
});
const landmarksMs = await median(async () => {
  const out = await faceapi.nets.faceLandmark68Net.forward(crop);
  await out.data();
  out.dispose();
});
const encoderMs = await median(async () => {
  const out = await faceapi.nets.faceRecognitionNet.forward(chipT);
  await out.data();
  out.dispose();
});

const env = tf.env();
console.log(JSON.stringify({
  implementation: `@vladmandic/face-api@1.7.15 on tfjs ${tf.version.tfjs}`,
  backend: tf.getBackend(),
  wasm_simd: backend === 'wasm' ? env.getBool('WASM_HAS_SIMD_SUPPORT') : null,
  wasm_threads: backend === 'wasm' ? env.getBool('WASM_HAS_MULTITHREAD_SUPPORT') : null,
  runs,
  detector_ms: Math.round(detectorMs * 1000) / 1000,
  landmarks_ms: Math.round(landmarksMs * 1000) / 1000,
  encoder_ms: Math.round(encoderMs * 1000) / 1000,
}));
