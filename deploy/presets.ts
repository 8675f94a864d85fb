/**
 * Presets: hyperparameters of the best public results, each number with its source. A preset
 * fills the config before explicit flags, so `--preset cartpole --epochs 4` changes one field.
 *
 * Mapping onto this system: an update trains on `batchSegments` segments of `segmentSteps` x
 * `envsPerWorker` samples, so Stable-Baselines3's n_envs = actors x workers x envsPerWorker,
 * n_steps = segmentSteps, and minibatches = (n_envs x n_steps) / batch_size.
 */
import type { RunConfig } from './config.js';

export interface Preset {
  description: string;
  config: Partial<RunConfig>;
  /** Where each number comes from, by field. */
  sources: Record<string, string>;
}

const ZOO = 'rl-baselines3-zoo hyperparams/ppo.yml, CartPole-v1 (reaches 500 in 1e5 steps)';
const SB3 = 'stable-baselines3 PPO / ActorCriticPolicy defaults';
const CLEANRL = 'CleanRL cleanrl/ppo.py Args defaults (Acrobot-v1: about -86 at 500k steps)';
const ZOO_PENDULUM = 'rl-baselines3-zoo hyperparams/ppo.yml, Pendulum-v1 (tuned; with gSDE)';
const ZOO_MCC = 'rl-baselines3-zoo hyperparams/ppo.yml, MountainCarContinuous-v0 (tuned; with gSDE and VecNormalize)';
const CLEANRL_CONT = 'CleanRL cleanrl/ppo_continuous_action.py Args / Agent';

const SEQ_MEASURED = 'measured on seq-reverse (README, sequence tasks)';

export const PRESETS: Readonly<Record<string, Preset>> = Object.freeze({
  seq: {
    description: 'seq-reverse (V 10, L 4): one actor of 64 envs in groups of 8, segment = response, group advantages, lr 3e-3',
    config: {
      env: 'seq-reverse', seqVocab: 10, seqLength: 4, actors: 1, workers: 1, envsPerWorker: 64, groupSize: 8, segmentSteps: 4,
      batchSegments: 1, minibatches: 4, epochs: 4, discount: 1, lambda: 0.95, lr: 3e-3, annealLr: true, entCoef: 0.01,
      vfCoef: 0.5, maxGradNorm: 0.5, adamEps: 1e-5, hidden: [64, 64], steps: 1_000_000, advantage: 'group',
      evalEvery: 50, evalEpisodes: 100, finalEvalEpisodes: 1000, targetReturn: null,
    },
    sources: {
      'env, seqVocab, seqLength': 'issue 15: prompt 4 digits, vocabulary 10',
      segmentSteps: 'the response length: every segment holds whole responses (group advantages need them)',
      'envsPerWorker, groupSize': 'project choice, not tuned: 8 groups of 8 responses per update (256 tokens)',
      'actors, workers, batchSegments': 'one actor thread writes thousands of responses a second; the 2-core machine',
      lr: `${SEQ_MEASURED}: with 3e-3 ppo reached mean reward 0.56 at 77k tokens, with 1e-3 0.40 (in-process runs, seed 1)`,
      'minibatches, epochs, entCoef, vfCoef, maxGradNorm, adamEps': `${CLEANRL}: the PPO defaults, unchanged`,
      discount: 'one reward at the end of a response: no discounting',
      hidden: `${CLEANRL}: two hidden layers of 64, tanh; the issue's independent check used 64x64`,
      steps: 'issue 15: the bar is set within 1M tokens',
      'evalEvery, evalEpisodes, finalEvalEpisodes': 'project choice: exact-match rates need many episodes (1000: +-3% at 95%)',
    },
  },
  cartpole: {
    description: 'CartPole-v1 with RL Baselines Zoo PPO settings: 8 envs x 32 steps, one 256 minibatch, 20 epochs, lr 1e-3 annealed',
    config: {
      env: 'CartPole-v1', actors: 2, workers: 1, envsPerWorker: 4, segmentSteps: 32, batchSegments: 2,
      minibatches: 1, epochs: 20, discount: 0.98, lambda: 0.8, lr: 1e-3, annealLr: true, entCoef: 0.0,
      vfCoef: 0.5, maxGradNorm: 0.5, adamEps: 1e-5, hidden: [64, 64], steps: 100_000,
      evalEvery: 10, evalEpisodes: 10, targetReturn: null,
    },
    sources: {
      'actors x workers x envsPerWorker = 8': `${ZOO}: n_envs 8`,
      segmentSteps: `${ZOO}: n_steps 32`,
      minibatches: `${ZOO}: batch_size 256 = the whole 8 x 32 batch`,
      epochs: `${ZOO}: n_epochs 20`,
      discount: `${ZOO}: gamma 0.98`,
      lambda: `${ZOO}: gae_lambda 0.8`,
      lr: `${ZOO}: learning_rate lin_0.001 (linear decay)`,
      entCoef: `${ZOO}: ent_coef 0.0`,
      'objective.eps': `${ZOO}: clip_range lin_0.2 (here constant 0.2, draft spec's default, docs/METHODS.md section 2)`,
      steps: `${ZOO}: n_timesteps 1e5`,
      vfCoef: `${SB3}: vf_coef 0.5`,
      maxGradNorm: `${SB3}: max_grad_norm 0.5`,
      adamEps: `${SB3}: Adam eps 1e-5`,
      hidden: `${SB3}: net_arch pi [64, 64], vf [64, 64], tanh`,
    },
  },
  acrobot: {
    description: "Acrobot-v1 with CleanRL's PPO settings: 4 envs x 128 steps, 4 minibatches, 4 epochs, lr 2.5e-4 annealed",
    config: {
      env: 'Acrobot-v1', actors: 2, workers: 1, envsPerWorker: 2, segmentSteps: 128, batchSegments: 2,
      minibatches: 4, epochs: 4, discount: 0.99, lambda: 0.95, lr: 2.5e-4, annealLr: true, entCoef: 0.01,
      vfCoef: 0.5, maxGradNorm: 0.5, adamEps: 1e-5, hidden: [64, 64], steps: 500_000,
      evalEvery: 20, evalEpisodes: 10, targetReturn: null,
    },
    sources: {
      'actors x workers x envsPerWorker = 4': `${CLEANRL}: num_envs 4`,
      segmentSteps: `${CLEANRL}: num_steps 128`,
      minibatches: `${CLEANRL}: num_minibatches 4`,
      epochs: `${CLEANRL}: update_epochs 4`,
      discount: `${CLEANRL}: gamma 0.99`,
      lambda: `${CLEANRL}: gae_lambda 0.95`,
      lr: `${CLEANRL}: learning_rate 2.5e-4, anneal_lr True`,
      entCoef: `${CLEANRL}: ent_coef 0.01`,
      vfCoef: `${CLEANRL}: vf_coef 0.5`,
      maxGradNorm: `${CLEANRL}: max_grad_norm 0.5`,
      adamEps: `${CLEANRL}: Adam eps 1e-5`,
      steps: `${CLEANRL}: total_timesteps 500000`,
      hidden: `${CLEANRL}: two hidden layers of 64, tanh, separate actor and critic`,
    },
  },
  pendulum: {
    description: 'Pendulum-v1 (Gaussian policy) with RL Baselines Zoo PPO settings (4 envs x 1024 steps, minibatches of 64, 10 epochs, gamma 0.9) and CleanRL\'s lr 3e-4 annealed',
    config: {
      env: 'Pendulum-v1', actors: 2, workers: 1, envsPerWorker: 2, segmentSteps: 1024, batchSegments: 2,
      minibatches: 64, epochs: 10, discount: 0.9, lambda: 0.95, lr: 3e-4, annealLr: true, entCoef: 0.0,
      vfCoef: 0.5, maxGradNorm: 0.5, adamEps: 1e-5, hidden: [64, 64], steps: 300_000,
      evalEvery: 5, evalEpisodes: 10, targetReturn: null,
    },
    sources: {
      'actors x workers x envsPerWorker = 4': `${ZOO_PENDULUM}: n_envs 4`,
      segmentSteps: `${ZOO_PENDULUM}: n_steps 1024`,
      minibatches: `${ZOO_PENDULUM}: batch_size 64 (the SB3 default) = 4 x 1024 / 64 minibatches`,
      epochs: `${ZOO_PENDULUM}: n_epochs 10`,
      discount: `${ZOO_PENDULUM}: gamma 0.9`,
      lambda: `${ZOO_PENDULUM}: gae_lambda 0.95`,
      lr: `${CLEANRL_CONT}: learning_rate 3e-4 (the zoo's 1e-3, constant or annealed, measured worse for v5: README "Continuous actions")`,
      annealLr: `${CLEANRL_CONT}: anneal_lr True (the zoo keeps its rate constant; measured: constant 1e-3 degrades after reaching -250)`,
      entCoef: `${ZOO_PENDULUM}: ent_coef 0.0`,
      'objective.eps': `${ZOO_PENDULUM}: clip_range 0.2 (the draft spec's default, docs/METHODS.md section 2)`,
      steps: `the issue's bar: >= -400 within 300k steps (${ZOO_PENDULUM}: n_timesteps 1e5 with gSDE, which we do not have)`,
      vfCoef: `${SB3}: vf_coef 0.5`,
      maxGradNorm: `${SB3}: max_grad_norm 0.5`,
      adamEps: `${SB3}: Adam eps 1e-5`,
      hidden: `${CLEANRL_CONT}: actor_mean and critic 64-64 tanh; actor_logstd zeros (our init)`,
      'not mapped': 'use_sde / sde_sample_freq (gSDE): our policy is the plain diagonal Gaussian of CleanRL',
    },
  },
  'mountaincar-continuous': {
    description: 'MountainCarContinuous-v0 (Gaussian policy) with RL Baselines Zoo PPO settings: 1 env x 8 steps, 10 epochs, gamma 0.9999, lr 7.77e-5 (zoo clip 0.1: add --eps 0.1)',
    config: {
      env: 'MountainCarContinuous-v0', actors: 1, workers: 1, envsPerWorker: 1, segmentSteps: 8, batchSegments: 1,
      minibatches: 1, epochs: 10, discount: 0.9999, lambda: 0.9, lr: 7.77e-5, annealLr: false, entCoef: 0.00429,
      vfCoef: 0.19, maxGradNorm: 5, adamEps: 1e-5, hidden: [64, 64], steps: 20_000,
      evalEvery: 100, evalEpisodes: 10, targetReturn: null,
    },
    sources: {
      'actors x workers x envsPerWorker = 1': `${ZOO_MCC}: n_envs 1`,
      segmentSteps: `${ZOO_MCC}: n_steps 8`,
      minibatches: `${ZOO_MCC}: batch_size 256 > n_envs x n_steps = 8, so one minibatch of the whole 8-step batch (as SB3 does)`,
      epochs: `${ZOO_MCC}: n_epochs 10`,
      discount: `${ZOO_MCC}: gamma 0.9999`,
      lambda: `${ZOO_MCC}: gae_lambda 0.9`,
      lr: `${ZOO_MCC}: learning_rate 7.77e-5, constant`,
      entCoef: `${ZOO_MCC}: ent_coef 0.00429`,
      'objective.eps': `${ZOO_MCC}: clip_range 0.1: not set by the preset (presets leave the objective to its flags); add --eps 0.1`,
      vfCoef: `${ZOO_MCC}: vf_coef 0.19`,
      maxGradNorm: `${ZOO_MCC}: max_grad_norm 5`,
      steps: `${ZOO_MCC}: n_timesteps 20000`,
      adamEps: `${SB3}: Adam eps 1e-5`,
      hidden: `${CLEANRL_CONT}: 64-64 tanh (zoo: ortho_init False, not mapped: we keep CleanRL's orthogonal init)`,
      'not mapped': 'normalize (VecNormalize), use_sde, log_std_init -3.29: not available here (log std starts at 0, as CleanRL)',
    },
  },
});
