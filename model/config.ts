/** Model group of the run config: what the learner and the actors must agree on (the model hash is checked). */
export interface ModelConfig {
  /** Hidden layer widths of the policy and value MLPs. */
  hidden: number[];
}
