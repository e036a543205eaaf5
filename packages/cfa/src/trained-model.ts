/**
 * A trained CFA model as the run leaves it, ready to be saved (`saveModel`), to score new images
 * (`predictImages`) or to be exported as one ONNX graph (`buildOnnxModel`): the backbone it was
 * fitted on, one fitted descriptor + memory bank per view (CFA: one; CFA++: the primary view and
 * its resize-only companion), and the thresholds calibrated on held-out normal images, if any.
 *
 * @example
 * ```ts
 * const run = await runCfaOnCategory({ config, root, category: 'weave', engine });
 * await saveModel('runs/x/model', run.model);
 * ```
 */
import type { View } from '@cfa/data';
import type { BackboneModel } from '@cfa/backbone';
import type { EmbeddingLevel } from '@cfa/descriptor';
import type { Thresholds } from './calibration';
import type { CfaConfig } from './config';
import type { FittedCfa } from './fit';

export type MemberRole = 'primary' | 'companion';

/** One fitted model on its view. */
export interface TrainedMember {
  role: MemberRole;
  /** The view it was fitted on (`inferenceView` of it scores new images). */
  view: View;
  /** Its embedding pyramid's levels (the patch grid first) at the view's input size. */
  levels: EmbeddingLevel[];
  fitted: FittedCfa;
}

export interface TrainedCfa {
  config: CfaConfig;
  backbone: BackboneModel;
  /** The primary first; CFA++ adds the companion. */
  members: TrainedMember[];
  /** Absent when nothing was held out (`calibration.holdout: 0`). */
  thresholds?: Thresholds;
}

/**
 * One member of a CFA++ model as a plain CFA model of its own (its view, `ensemble: 'none'`), to
 * save, predict with or export alone. It carries no thresholds: those were set on the combined maps.
 */
export function memberModel(model: TrainedCfa, role: MemberRole): TrainedCfa {
  const member = model.members.find((m) => m.role === role);
  if (!member)
    throw new Error(
      `memberModel: the model has members [${model.members.map((m) => m.role).join(', ')}], no '${role}'`,
    );
  const config = { ...model.config, view: member.view, ensemble: 'none' as const };
  return {
    config,
    backbone: model.backbone,
    members: [{ ...member, role: 'primary', fitted: { ...member.fitted, config } }],
    ...(model.members.length === 1 && model.thresholds ? { thresholds: model.thresholds } : {}),
  };
}
