/**
 * @cfa/crad — CRAD (Lee et al. 2024, ECCV; arXiv 2402.18293) as glue over the stage packages: no
 * maths here. What every method shares (a run on a category or, unified, on several; ensembles,
 * thresholds, bundles, new images, the ONNX export, the feature cache) is @cfa/method-kit's; this
 * package supplies CRAD's pieces to it as `cradMethod`.
 *
 * - `cradMethod`: the method for @cfa/method-kit; `CradConfigSchema` with the reference code's
 *   defaults (`tae-mo/CRAD` experiments/config.yaml).
 * - `fitCrad`, `predictCrad`: the parts; `cradTrainStep` + `createCradOptimizer`: one training step
 *   on TensorFlow.js (autograd) and the reference's optimiser (two learning rates, clipping,
 *   StepLR); `createCradScorer`: features → distances on either engine.
 * - `cradForwardTf`, `lowerCradDistances`, `lowerCradMap`: the forward pass composed from
 *   @cfa/descriptor (MFCN neck, coordinate predictors, bottleneck decoder), @cfa/memory-bank (the
 *   continuous memory) and @cfa/scoring (blend, distance, maps), on tfjs and as ONNX.
 * - `initCradState`, `trainableNames`, `GRID_NAMES`: the model as a state dict in the reference
 *   module's names.
 */
export {
  BackboneConfigSchema,
  CRAD_CONFIG_FIELDS,
  CradConfigSchema,
  DecoderConfigSchema,
  MemoryConfigSchema,
  ScoringConfigSchema,
  TrainingConfigSchema,
} from './config';
export type { CradConfig, CradConfigInput } from './config';
export { cradMethod } from './crad-method';
export { fitCrad, epochBatches } from './fit';
export type { FitCradOptions, FittedCrad } from './fit';
export { cradMapsAndScores, predictCrad } from './predict';
export type { PredictCradOptions } from './predict';
export { cradTrainStep, createCradOptimizer } from './train-step';
export type { CradOptimizer, TrainStepOptions, TrainStepResult } from './train-step';
export { createCradScorer } from './crad-scorer';
export type { CradScorer } from './crad-scorer';
export { cradForwardTf } from './crad-forward';
export type { CradForward, CradForwardOptions } from './crad-forward';
export { lowerCradDistances, lowerCradImageScore, lowerCradMap } from './crad-onnx';
export { GRID_NAMES, cloneState, initCradState, stateBytes, trainableNames } from './crad-state';
export type { FeatureGrid } from './crad-state';
export { stateTensors } from './state-tensors';
export { CRAD_MEMBER_FIELDS } from './crad-member';
