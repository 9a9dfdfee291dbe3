#!/usr/bin/env node
// SPDX-License-Identifier: GPL-3.0-or-later
//
// Writes tests/data/faces/faceapi-reference.json: what face-api 1.7.15 on
// TensorFlow.js (cpu backend) computes for the fixture images — detector
// boxes at 416, the 68 landmarks of the best face (relative to the crop
// the landmark net saw), the descriptor face-api's own pipeline computes
// (from its crop of the landmark-aligned box), and descriptors of
// Twinlock's aligned 150×150 chips (same input tensor on both sides).
//
// Run: tests/reference/run-reference.sh   (installs the npm packages
// into a temporary folder; never run by the test suite).
import fs from 'node:fs';
import path from 'node:path';
import { loadFaceapi, decodeImage } from './common.mjs';

const [modulesDir, dataDir] = process.argv.slice(2);
const { faceapi, PNG } = await loadFaceapi(modulesDir, 'cpu');
const { tf } = faceapi;

const images = fs.readdirSync(dataDir).filter((f) => /\.(png|pgm)$/.test(f)).sort();
const chipDir = path.join(dataDir, 'chips');
const chips = fs.readdirSync(chipDir).filter((f) => f.endsWith('.png')).sort();
const round = (v) => Math.round(v * 1e6) / 1e6;
const out = { package: '@vladmandic/face-api@1.7.15', tfjs: tf.version.tfjs, backend: tf.getBackend(), input_size: 416, score_threshold: 0.3, images: [], chips: [] };

for (const file of images) {
  const img = decodeImage(PNG, path.join(dataDir, file));
  const t = tf.tensor3d(img.rgb, [img.height, img.width, 3], 'int32');
  const opts = new faceapi.TinyFaceDetectorOptions({ inputSize: 416, scoreThreshold: 0.3 });
  const dets = await faceapi.nets.tinyFaceDetector.locateFaces(t, opts);
  const entry = { file, width: img.width, height: img.height, detections: dets.map((d) => ({ x: round(d.box.x), y: round(d.box.y), width: round(d.box.width), height: round(d.box.height), score: round(d.score) })) };
  if (dets.length > 0) {
    const best = dets.reduce((a, b) => (b.score > a.score ? b : a));
    const crop = best.box.clipAtImageBorders(img.width, img.height);
    const [face] = await faceapi.extractFaceTensors(t, [best]);
    const lm = await faceapi.nets.faceLandmark68Net.detectLandmarks(face);
    face.dispose();
    entry.crop = { x: crop.x, y: crop.y, width: crop.width, height: crop.height };
    entry.landmarks = lm.positions.map((p) => [round(p.x), round(p.y)]);
    // face-api's own descriptor path: shift by the detection box, align, crop.
    const shifted = lm.shiftBy(best.box.x, best.box.y);
    const aligned = shifted.align(null, { useDlibAlignment: true }).clipAtImageBorders(img.width, img.height);
    const [alignedFace] = await faceapi.extractFaceTensors(t, [aligned]);
    const desc = await faceapi.nets.faceRecognitionNet.computeFaceDescriptor(alignedFace);
    alignedFace.dispose();
    entry.aligned_box = { x: aligned.x, y: aligned.y, width: aligned.width, height: aligned.height };
    entry.descriptor = Array.from(desc).map(round);
  }
  t.dispose();
  out.images.push(entry);
}

for (const file of chips) {
  const img = decodeImage(PNG, path.join(chipDir, file));
  const t = tf.tensor3d(img.rgb, [img.height, img.width, 3], 'int32');
  const desc = await faceapi.nets.faceRecognitionNet.computeFaceDescriptor(t);
  t.dispose();
  out.chips.push({ file, descriptor: Array.from(desc).map(round) });
}

const target = path.join(dataDir, 'faceapi-reference.json');
fs.writeFileSync(target, `${JSON.stringify(out, null, 1)}\n`);
console.log(`wrote ${target}: ${out.images.length} images, ${out.chips.length} chips`);
