// Neural: reverse-mode automatic differentiation, layers, losses, optimisers and checkpoints on `Tensor`.
//
// The pieces, bottom up:
//   Autograd/Variable.swift        `Variable<Scalar>`: a tensor value, its accumulated `grad`, and the recorded
//                                  operation that produced it (inputs + backward rule).
//   Autograd/Backward.swift        `backward()`, `gradients(of:wrt:seed:createGraph:)`: the reverse pass.
//   Autograd/GradMode.swift        `noGrad { }`, `withGrad { }`: recording on or off (task-local).
//   Autograd/Variable+*.swift      the differentiable operations, each with its backward rule written in
//                                  differentiable operations (so gradients of gradients work); first-order
//                                  passes use fused kernels instead where that is faster.
//   Autograd/AutogradKernels.swift         every element loop, pre-specialised for Float and Double.
//   Module.swift, Layers/          the `Module`/`Layer` protocols (named parameter paths, train/eval) and the
//                                  layers: Dense, MLP, Sequential, LayerNorm, RMSNorm, GroupNorm, Dropout,
//                                  Embedding, sinusoidal and DiT timestep embeddings, multi-head self- and
//                                  cross-attention, residual MLP block, AdaLN-Zero and a DiT block, Conv2d and
//                                  ConvTranspose2d.
//   Losses.swift                   MSE, L1, Huber, BCE with logits, cross-entropy, Gaussian KL and NLL.
//   Training/                      SGD (momentum, Nesterov), Adam, AdamW, global-norm clipping, learning-rate
//                                  schedules, EMA of parameters, deterministic mini-batches.
//   Checkpoint.swift               `.safetensors` save/load by parameter path, with configuration metadata.
//
// A training step:
//
//     var g = RandomGenerator(seed: 0)
//     let net = MLP<Float>(sizes: [64, 128, 10], activation: .relu, using: &g)
//     let opt = AdamW(parameters: net.parameters, learningRate: 3e-3)
//     let loss = try Loss.crossEntropy(net(Variable(batch)), labels: labels)
//     opt.zeroGrad()
//     try loss.backward()
//     try opt.step()
//
// A gradient penalty (WGAN-GP), differentiated with respect to the critic's parameters:
//
//     let xv = Variable(x, requiresGrad: true)
//     let gx = try gradient(of: critic(xv).sum(), wrt: xv, createGraph: true)
//     let penalty = try (gx.norm(axis: 1) - 1).square().mean()
//     try penalty.backward()

import Linear
