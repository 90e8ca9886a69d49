/**
 * edgespike's public API: everything the browser entry (browser.ts) has, plus what needs Node: the
 * training loop with its files and progress bar, model files, data sets and file formats. Files whose
 * names start with _ are internal.
 */
export * from './browser.js';
export { train, evaluate, type TrainConfig, type EpochRecord } from './train/trainer.js';
export { saveNet, loadNet, type SaveOptions, type ModelMeta } from './train/model-file.js';
export { predictImage, LOW_CONFIDENCE, type Prediction } from './train/predict.js';
export { pretrainedModels, pretrainedFile, type PretrainedModel } from './models/pretrained.js';
export { readImage, toModelInput, type Image } from './data/image.js';

export { mnist } from './data/mnist.js';
export { fashionMnist } from './data/fashion.js';
export { cifar10, cifar100 } from './data/cifar.js';
export { staticDataset } from './data/registry.js';
export * as events from './data/events/index.js';
export * as audio from './data/audio/index.js';
export { readSafetensors, writeSafetensors } from './io/safetensors.js';
export { SplitClient, readSample, type Answer, type ClientOptions } from './split/client.js';
export { serveSplit, type ServeOptions, type ServedSplit } from './split/serve.js';
export { startCoordinator, type CoordinatorOptions, type RunningCoordinator } from './split/coordinator.js';
export { startDevice, type DeviceOptions, type RunningDevice } from './split/device.js';
