import { type AdapterKind, adapterKindOf } from './adapter-kind.js';
import { checkGemmTuning, DEFAULT_GEMM_TUNING, type GemmTuning } from './gemm-tuning.js';

/** What a DeviceProfile is built from: the adapter's description and the device's limits. */
export interface AdapterFacts {
  readonly info: { architecture: string; device: string; description: string; subgroupMinSize?: unknown };
  readonly maxInvocations: number;
}

/**
 * Everything a kernel chooses by device, held per context (never in module state): the
 * adapter kind (GPU or software rasteriser), the smallest subgroup, and the GEMM core's
 * tuning table. Built by `openContext` from the adapter; `src/tune` may replace the table, and
 * tests may set `adapterKind` to check both dispatch shapes on one machine.
 */
export class DeviceProfile {
  /** 'software' on lavapipe/SwiftShader, 'gpu' otherwise; settable so tests reach both shapes. */
  adapterKind: AdapterKind;
  /**
   * Fewest lanes in a subgroup on this adapter (0 when unknown). Kernels that shuffle
   * within subgroups check it along with the device's `subgroups` feature.
   */
  readonly subgroupMinSize: number;
  private readonly maxInvocations: number;
  private tuning: Readonly<GemmTuning> = DEFAULT_GEMM_TUNING;

  constructor(facts: AdapterFacts) {
    this.adapterKind = adapterKindOf(facts.info);
    const size = facts.info.subgroupMinSize;
    this.subgroupMinSize = typeof size === 'number' ? size : 0;
    this.maxInvocations = facts.maxInvocations;
  }

  /**
   * How the GEMM core (matmul, linear, conv2d) shapes its dispatches on this device: the
   * defaults, or what `autotuneGemm` chose. Settable (checked against the table's rules and
   * the device's invocation limit); plans compiled before a change keep their dispatches.
   */
  get gemmTuning(): Readonly<GemmTuning> {
    return this.tuning;
  }

  set gemmTuning(value: GemmTuning) {
    const checked = checkGemmTuning(value);
    if (checked.invocations > this.maxInvocations) {
      throw new Error(`gemm tuning: ${checked.invocations} invocations per workgroup is over this device's limit of ${this.maxInvocations}`);
    }
    this.tuning = Object.freeze(checked);
  }
}
