/**
 * torchvision.models.feature_extraction, on forward hooks instead of FX tracing:
 * createFeatureExtractor(model, { returnNodes }) gives a module whose forward returns the outputs of
 * the named nodes, `{ [outputName]: Tensor }`, as torchvision's does with a dict.
 *
 * Nodes are module calls named as FX names them: the module's qualified name ('layer1',
 * 'layer4.1.bn2'), with '_1', '_2', ... for its second, third call in one forward
 * ('layer1.0.relu_1', the block's second ReLU). Functional operations inside a forward (torch.flatten,
 * '+') are not nodes here: ask for the module call before or after them. As torchvision prunes the
 * graph after the last node asked for, the forward stops once every node has been seen. A node's
 * output is the tensor the module returned: a later in-place operation of the model on that tensor
 * (ResNet's `out += identity`) changes it, as in Python. getGraphNodeNames(model, input) lists the
 * nodes.
 * @module
 */
import { noGrad } from '../autograd';
import { TorchError, argError, checkOptions } from '../errors';
import { MemberView, Module, setPlain } from '../nn/module';
import { adopt, keep } from '../scope';
import { Tensor } from '../tensor';

const STOP = Symbol('torch-node.featureExtraction.stop');

/** Hooks every submodule; each call is reported under its FX node name. Returns what removes the hooks. */
function trackCalls(model: Module, onCall: (node: string, output: unknown) => void): () => void {
  const handles = [...model.namedModules()]
    .filter(([name]) => name !== '')
    .map(([name, m]) => {
      let calls = 0;
      return m.registerForwardHook((_m, _args, out) => {
        const node = calls === 0 ? name : `${name}_${calls}`;
        calls++;
        onCall(node, out);
      });
    });
  return () => handles.forEach((h) => h.remove());
}

function keepAll(v: unknown): void {
  if (v instanceof Tensor) keep(v);
  else if (Array.isArray(v)) v.forEach(keepAll);
}
function adoptAll(v: unknown): void {
  if (v instanceof Tensor) adopt(v);
  else if (Array.isArray(v)) v.forEach(adoptAll);
}

/** The module createFeatureExtractor returns: the model's parameters under the model's names. */
export class FeatureExtractor extends MemberView {
  /** The nodes returned: node name -> output name. */
  declare readonly returnNodes: ReadonlyMap<string, string>;
  constructor(model: Module, returnNodes: Map<string, string>) {
    // State-dict names are the model's, as torchvision's GraphModule keeps them.
    super('createFeatureExtractor()', model);
    setPlain(this, 'returnNodes', returnNodes);
  }
  /** The model the features come from. */
  get model(): Module {
    return this._inner;
  }
  /** `{ [outputName]: output }` for every node asked for, in returnNodes' order. */
  override forward(...args: any[]): Record<string, any> {
    const got = new Map<string, unknown>();
    const want = this.returnNodes;
    const stop = trackCalls(this.model, (node, out) => {
      if (!want.has(node) || got.has(node)) return;
      keepAll(out);
      got.set(node, out);
      if (got.size === want.size) throw STOP;
    });
    let result: unknown;
    let stopped = false;
    try {
      result = this.model.forward(...args);
    } catch (e) {
      if (e !== STOP) {
        got.forEach(adoptAll);
        throw e;
      }
      stopped = true;
    } finally {
      stop();
    }
    got.forEach(adoptAll);
    if (!stopped) {
      const missing = [...want.keys()].filter((n) => !got.has(n));
      if (missing.length) {
        throw new TorchError(
          `createFeatureExtractor(): the forward never called ${missing.map((n) => `'${n}'`).join(', ')}; ` +
            'nodes are module calls (getGraphNodeNames(model, input) lists them); functional operations are not nodes',
          'ERR_TORCH_ARG',
        );
      }
      if (result instanceof Tensor && ![...got.values()].includes(result)) result.dispose();
    }
    const out: Record<string, any> = {};
    for (const [node, name] of want) out[name] = got.get(node);
    return out;
  }
}

/**
 * torchvision's create_feature_extractor(model, return_nodes): `returnNodes` is an array of node
 * names (each output named as its node) or `{ node: outputName }`. Unknown module names are refused
 * at once, listing the model's modules.
 */
export function createFeatureExtractor(model: Module, options: { returnNodes: string[] | Record<string, string> | Map<string, string> }): FeatureExtractor {
  const fn = 'createFeatureExtractor()';
  if (!(model instanceof Module)) argError(fn, 'model', 'a Module', model);
  if (!options || typeof options !== 'object') argError(fn, 'options', '{ returnNodes }', options);
  checkOptions(fn, options, ['returnNodes']);
  const r = options.returnNodes;
  let nodes: Map<string, string>;
  if (Array.isArray(r)) nodes = new Map(r.map((n) => [n, n]));
  else if (r instanceof Map) nodes = new Map(r);
  else if (r && typeof r === 'object') nodes = new Map(Object.entries(r));
  else return argError(fn, 'returnNodes', 'an array of node names or { node: outputName }', r);
  if (nodes.size === 0) argError(fn, 'returnNodes', 'at least one node name', r);
  const modules = new Set([...model.namedModules().keys()].filter((n) => n !== ''));
  for (const [node, name] of nodes) {
    if (typeof node !== 'string' || typeof name !== 'string') argError(fn, 'returnNodes', 'node names and output names that are strings', r);
    const base = node.replace(/_\d+$/, '');
    if (!modules.has(node) && !modules.has(base)) {
      throw new TorchError(
        `${fn}: '${node}' is not a module call of ${model.constructor.name}; nodes are module names such as ` +
          `${[...modules]
            .slice(0, 8)
            .map((n) => `'${n}'`)
            .join(', ')}${modules.size > 8 ? ', ...' : ''} ` +
          "(with '_1', '_2' for a module's later calls); getGraphNodeNames(model, input) lists them all",
        'ERR_TORCH_ARG',
      );
    }
  }
  return new FeatureExtractor(model, nodes);
}

/**
 * torchvision's get_graph_node_names: [trainNodes, evalNodes], here the module calls one forward
 * makes on `input` (run in eval mode under no-grad, the model's mode restored; both lists are that
 * run's, as a model without mode-dependent branches has).
 */
export function getGraphNodeNames(model: Module, ...input: any[]): [string[], string[]] {
  if (!(model instanceof Module)) argError('getGraphNodeNames()', 'model', 'a Module', model);
  const names: string[] = [];
  const modes = new Map([...model.namedModules().values()].map((m) => [m, m.training]));
  const stop = trackCalls(model, (node) => names.push(node));
  try {
    model.eval();
    const out = noGrad(() => model.forward(...input));
    if (out instanceof Tensor) out.dispose();
  } finally {
    stop();
    for (const [m, t] of modes) m.training = t;
  }
  return [[...names], names];
}
