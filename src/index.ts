// kdgpu: knowledge distillation and robustness on WebGPU with hand-written WGSL kernels.
export { init, type InitOptions } from './init.js';
export { adapterLabel, openContext, GpuContext, type AdapterDescription, type ContextOptions } from './gpu/context.js';
export { DeviceProfile } from './gpu/device-profile.js';
export type { AdapterKind } from './gpu/adapter-kind.js';
export { NO_ADAPTER_HELP } from './gpu/acquire.js';
export { BufferUsage } from './gpu/constants.js';
export { shader, type Shader } from './gpu/shader.js';
export { Tensor, sizeOf, type DType, type Shape, type TensorData, type TensorSpec } from './graph/tensor.js';
export { Graph } from './graph/graph.js';
export { SymbolicTensor } from './graph/symbolic.js';
export { gradients } from './graph/autodiff.js';
export { compile, Plan, type CompileOptions } from './graph/plan.js';
export { canProfile, profileSummary, type DispatchTime } from './graph/profile.js';
export { apply, type AnyTensor } from './graph/apply.js';
export type { OpDef, KernelCall } from './graph/op.js';
export { matmul, linear, type MatmulOptions, type LinearOptions, type Precision } from './ops/matmul.js';
export { DEFAULT_GEMM_TUNING, GEMM_KERNELS, GEMM_NEVER_WIDE, checkGemmTuning, type GemmKernel, type GemmTuning } from './gpu/gemm-tuning.js';
export { castF16, castF32 } from './ops/cast.js';
export { F16_MAX, halfBits, halfValue, roundToHalf } from './graph/half.js';
export {
  autotuneGemm,
  gemmTuningKey,
  gemmTuningCacheDir,
  chooseWideBlockProducts,
  chooseGemmKernel,
  DEFAULT_AUTOTUNE_SHAPES,
  type AutotuneOptions,
  type AutotuneResult,
  type AutotuneShape,
  type AutotuneMeasurement,
} from './tune/gemm-autotune.js';
export { KDGPU_VERSION } from './version.js';
export { relu, reluBackward, add, mul, scale, broadcastScalar, reshape, accumulate } from './ops/elementwise.js';
export { softmax, logSoftmax } from './ops/softmax.js';
export { pad2d, concat, sliceAxis, transpose, type Pads2d } from './ops/layout.js';
export { sigmoid, tanh, leakyRelu, elu, selu, softplus, softsign, hardSigmoid, hardSwish, clip, neg, exp, log, sqrt, abs, reciprocal, sign, floor, ACTIVATION_KINDS, type ActivationName } from './ops/activations.js';
export { addBroadcast, sub, mulBroadcast, div, pow, maximum, minimum, prelu, repeat, sumRepeats, slice, gatherRows, broadcastShapes, BINARY_KINDS, type BinaryKind } from './ops/broadcast.js';
export { sum, mean, columnSum } from './ops/reduce.js';
export { accuracy, argmaxCorrect } from './ops/accuracy.js';
export { softmaxCrossEntropy, softmaxCrossEntropyPerRow } from './losses/softmax-cross-entropy.js';
export { Optimizer, type LearningRate } from './optim/optimizer.js';
export { Adam, adamUpdate, type AdamOptions } from './optim/adam.js';
export { Sgd, sgdUpdate, type SgdOptions } from './optim/sgd.js';
export { LossScaler, type LossScaleOptions, type LossScaleReading } from './optim/loss-scale.js';
export { parseIdx, type IdxArray } from './data/idx.js';
export { mnistSplit, loadMnistFromDirectory, MNIST_FILES, type Mnist, type MnistSplit } from './data/mnist.js';
export { Random, heNormal, glorotUniform } from './nn/random.js';
export { conv2d, conv2dBackwardInput, conv2dBackwardFilter, conv2dBackwardBias, conv2dBackwardParams, type Conv2dOptions, type Conv2dSpacingOptions } from './ops/conv2d.js';
export { maxPool2d, avgPool2d, globalAvgPool, type PoolOptions, type MaxPoolOptions, type AvgPoolOptions } from './ops/pooling.js';
export { lrn, type LrnOptions } from './ops/lrn.js';
export { pad2dBorder, type BorderMode } from './ops/pad-border.js';
export { dropout, dropoutWithCounter, DropoutRng, type DropoutOptions } from './ops/dropout.js';
export { batchNorm, type BatchNormOptions } from './ops/batch-norm.js';
export { Layer, type ForwardOptions } from './nn/layer.js';
export { Dense, type DenseOptions } from './nn/dense.js';
export { Conv2d, type Conv2dLayerOptions } from './nn/conv2d.js';
export { MaxPool2d, AvgPool2d, GlobalAvgPool } from './nn/pooling.js';
export { ReLU, Flatten, Dropout } from './nn/basic.js';
export { BatchNorm } from './nn/batch-norm.js';
export { Standardize } from './nn/standardize.js';
export { Sequential, sequential, type ModelForwardOptions, type BuildOptions, type SequentialOptions } from './nn/sequential.js';
export { subset, split, normalize, checkDataset, imageSize, MNIST_MEAN, MNIST_STD, MNIST_NORMALIZATION, type Dataset, type Normalization } from './data/dataset.js';
export { batches, batchesFrom, batchCount, type Batch, type BatchOptions } from './data/batches.js';
export { jitter, type JitterOptions } from './data/augment.js';
export { loadMnistFromUrls, mnistUrls, type MnistUrls, type MnistFetchOptions } from './data/mnist-browser.js';
export { deriveSeed } from './data/seed.js';
export { encodeSafetensors, decodeSafetensors, type SafetensorsDType, type SafetensorsData, type SafetensorsInput, type SafetensorsTensor, type DecodedSafetensors } from './io/safetensors.js';
export { saveParameters, loadParametersInto, type NamedTensors, type LoadParametersOptions } from './io/parameters.js';
export { writeFileAtomic, readFileBytes } from './io/atomic-write.js';
export { saveSafetensorsFile, loadSafetensorsFile } from './io/safetensors-file.js';
export { loadTorchStateDict, type TorchStateDictOptions, type TorchModuleMapping } from './nn/torch-state-dict.js';
export { encodeOnnx, saveOnnx, ONNX_EXPORT_OPSET, type OnnxExportOptions } from './onnx/export.js';
export { loadOnnx, type LoadOnnxOptions } from './onnx/load.js';
export { decodeOnnx, decodeOnnxTensor, type OnnxGraphData, type OnnxNode, type OnnxTensor } from './onnx/decode.js';
export { SUPPORTED_ONNX_OPS } from './onnx/ops.js';
export { onnxTypes } from './onnx/schema.js';
export { runOnnxCase, type OnnxCaseResult, type OnnxTestData } from './onnx/conformance.js';
export { fit, type Objective, type ObjectiveBuildOptions, type FitOptions, type FitResult, type EpochStats, type AfterEpochContext, type StepProgress, type TrainingState, type CheckpointStore } from './train/fit.js';
export { train } from './train/train.js';
export { Evaluator, evaluate, type Evaluation } from './train/evaluate.js';
export { pairedComparison, mcnemarExactPValue, type PairedComparison } from './train/paired-test.js';
export { fileCheckpoint } from './train/checkpoint.js';
export { distill, type DistillOptions, type DistillResult, type LayerPair } from './distill/distiller.js';
export { mixSoftTargets } from './distill/soft-targets.js';
export { checkTeacher, DISTILLATION_DEFAULTS, type DistillationWeights, distillationWeights } from './distill/options.js';
export { dkdLoss, type DkdOptions } from './losses/dkd.js';
export { seedCnn, teacherCnn, hintonTeacher, hintonStudent } from './nn/zoo.js';
export { pretrained, pretrainedManifest, PRETRAINED_NAMES, type PretrainedName, type PretrainedManifest, type PretrainedOptions } from './models/pretrained.js';
export { temperatureKl, temperatureKlPerRow, type TemperatureKlOptions } from './losses/temperature-kl.js';
export { hintLoss } from './losses/hint-loss.js';
export { attentionMap, attentionTransferLoss } from './losses/attention-transfer.js';
export { sumAxis, meanAxis, broadcastAxis } from './ops/reduce-axis.js';
export { CORRUPTIONS, CORRUPTION_NAMES, MNIST_C_CORRUPTIONS, DEFAULT_SEVERITY, corruptDataset, type Corruption, type CorruptionName, type CorruptOptions, type Severity } from './robust/corruptions.js';
export {
  expectedCalibrationError,
  negativeLogLikelihood,
  brierScore,
  fitTemperature,
  calibrationReport,
  softmaxWithTemperature,
  type ReliabilityBin,
  type CalibrationError,
  type CalibrationMetrics,
  type CalibrationReport,
  type CalibrationReportOptions,
} from './robust/calibration.js';
export { marginLoss, marginLossPerRow } from './losses/margin-loss.js';
export { klDivergence } from './losses/kl-divergence.js';
export { dlrLossPerRow } from './losses/dlr-loss.js';
export { attackStep, attackRandomStart, keepBestAdversarial, type AttackNorm } from './robust/attack-ops.js';
export { Attacker, traceAttackStep, attackLossPerRow, type AttackLoss, type AttackSpec, type FgsmSpec, type PgdSpec, type ApgdSpec, type AutoAttackSpec, type BatchAttackResult } from './robust/attacker.js';
export { apgdCheckpoints, type ApgdLoss } from './robust/apgd.js';
export { attackDataset, robustAccuracyCurve, type AttackProgress, type AttackRunOptions, type AttackDatasetResult, type CurveAttack, type RobustCurveOptions, type RobustCurve } from './robust/attacks.js';
export { sanityFlags, noiseTolerance, type SanityFlag, type SanityCheck, type AttackCurve } from './robust/attack-sanity.js';
export { InnerAttack, type InnerAttackOptions } from './robust/inner-attack.js';
export { adversarialTrain, ardDistill, rsladDistill, AdversarialTrainingObjective, ArdObjective, RsladObjective, type ArdOptions, type RsladOptions } from './robust/robust-distill.js';
export { fastAdversarialTrain, tradesTrain, TradesObjective, FAST_AT_STEP, type FastAdversarialResult, type OverfittingCheck, type TradesOptions } from './robust/fast-adversarial.js';
export { temperatureTrain, defensiveDistill, apparentRobustness, type ApparentRobustness } from './robust/defensive-distillation.js';
