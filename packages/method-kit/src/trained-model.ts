/**
 * A trained model as a run leaves it, whatever its method, ready to be saved (`saveModel`), to
 * score new images (`createImagePredictor`) or to be exported as one ONNX graph (`buildOnnxModel`):
 * the method that fitted it, its config, the backbone, one fitted member per view (one; CFA++-style
 * ensembles: the primary view and its resize-only companion), and the thresholds calibrated on
 * held-out normal images, if any.
 *
 * @example
 * ```ts
 * const run = await runMethodOnCategory({ method, config, root, category: 'weave', engine });
 * await saveModel('runs/x/model', run.model);
 * ```
 */
import type { View } from '@cfa/data';
import type { BackboneModel } from '@cfa/backbone';
import type { EmbeddingLevel } from '@cfa/descriptor';
import type { Thresholds } from './calibration';
import type { MethodConfigBase } from './common-config';
import type { AnomalyMethod } from './method';

export type MemberRole = 'primary' | 'companion';

/** One fitted model on its view. */
export interface TrainedMember<F = unknown> {
  role: MemberRole;
  /** The view it was fitted on (`inferenceView` of it scores new images). */
  view: View;
  /** Its stored feature levels (the patch grid first) at the view's input size. */
  levels: EmbeddingLevel[];
  fitted: F;
}

export interface TrainedModel<C extends MethodConfigBase = MethodConfigBase, F = unknown> {
  method: AnomalyMethod<C, F>;
  config: C;
  backbone: BackboneModel;
  /** The primary first; an ensemble adds the companion. */
  members: TrainedMember<F>[];
  /** Absent when nothing was held out (`calibration.holdout: 0`). */
  thresholds?: Thresholds;
}

/**
 * One member of a two-view model as a single-view model of its own (its view, `ensemble: 'none'`),
 * to save, predict with or export alone. It carries no thresholds: those were set on the combined maps.
 */
export function memberModel<C extends MethodConfigBase, F>(
  model: TrainedModel<C, F>,
  role: MemberRole,
): TrainedModel<C, F> {
  const member = model.members.find((m) => m.role === role);
  if (!member)
    throw new Error(
      `memberModel: the model has members [${model.members.map((m) => m.role).join(', ')}], no '${role}'`,
    );
  const config = { ...model.config, view: member.view, ensemble: 'none' as const };
  return {
    method: model.method,
    config,
    backbone: model.backbone,
    members: [{ ...member, role: 'primary' }],
    ...(model.members.length === 1 && model.thresholds ? { thresholds: model.thresholds } : {}),
  };
}
