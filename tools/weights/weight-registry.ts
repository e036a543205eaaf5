/**
 * The standard ImageNet weight files of the paper's backbones, as torchvision publishes them. Each
 * file name carries the first hex digits of the file's sha256 (torch.hub's convention); the
 * download is checked against it, as `torch.hub.load_state_dict_from_url(check_hash=True)` does.
 */

export interface WeightSource {
  backbone: string;
  url: string;
  /** The file name, as in the URL. */
  file: string;
  /** Leading hex digits of the sha256 of the file. */
  sha256Prefix: string;
}

const TORCHVISION = 'https://download.pytorch.org/models';

function source(backbone: string, file: string): WeightSource {
  const prefix = /-([0-9a-f]{8,})\.pth$/.exec(file)?.[1];
  if (!prefix) throw new Error(`weight file name without a hash: ${file}`);
  return { backbone, url: `${TORCHVISION}/${file}`, file, sha256Prefix: prefix };
}

export const WEIGHT_SOURCES: Record<string, WeightSource> = {
  resnet18: source('resnet18', 'resnet18-f37072fd.pth'),
  wide_resnet50_2: source('wide_resnet50_2', 'wide_resnet50_2-95faca4d.pth'),
  vgg19: source('vgg19', 'vgg19-dcbb9e9d.pth'),
  vgg19_bn: source('vgg19_bn', 'vgg19_bn-c79401a0.pth'),
  // torchvision's EfficientNet-B5 weights, ported from lukemelas/EfficientNet-PyTorch
  efficientnet_b5: source('efficientnet_b5', 'efficientnet_b5_lukemelas-b6417697.pth'),
};
