"""PyTorch side of bench/metric: sentence-transformers' BatchHardTripletLoss and BatchSemiHardTripletLoss
(the formulas of ST 5.2 losses/BatchHardTripletLoss.py and BatchSemiHardTripletLoss.py, inlined so only torch is
needed), one thread, forward + backward, on the batches written by compare.ts.
Usage: /usr/bin/python3 torch_bench.py <dir-with-batches> <repeats>  -> JSON lines on stdout."""
import json, sys, time, os
import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(1)


def pairwise_distances(e, squared):
    dot = e @ e.t()
    sq = torch.diag(dot)
    d = sq.unsqueeze(0) - 2.0 * dot + sq.unsqueeze(1)
    d[d < 0] = 0
    if not squared:
        mask = d.eq(0).float()
        d = d + mask * 1e-16
        d = (1.0 - mask) * torch.sqrt(d)
    return d


def batch_hard(labels, e, margin, squared):
    d = pairwise_distances(e, squared)
    eye = torch.eye(labels.size(0), dtype=torch.bool)
    same = labels.unsqueeze(0) == labels.unsqueeze(1)
    mask_ap = (same & ~eye).float()
    hp, _ = (mask_ap * d).max(1, keepdim=True)
    mask_an = (~same).float()
    mx, _ = d.max(1, keepdim=True)
    hn, _ = (d + mx * (1.0 - mask_an)).min(1, keepdim=True)
    tl = hp - hn + margin
    tl[tl < 0] = 0
    return tl.mean()


def _masked_minimum(data, mask, dim=1):
    axis_maximums, _ = data.max(dim, keepdims=True)
    m = (data - axis_maximums) * mask
    m, _ = m.min(dim, keepdims=True)
    return m + axis_maximums


def _masked_maximum(data, mask, dim=1):
    axis_minimums, _ = data.min(dim, keepdims=True)
    m = (data - axis_minimums) * mask
    m, _ = m.max(dim, keepdims=True)
    return m + axis_minimums


def batch_semi_hard(labels, e, margin, squared):
    labels = labels.unsqueeze(1)
    pdist = pairwise_distances(e, squared)
    adjacency = labels == labels.t()
    adjacency_not = ~adjacency
    b = torch.numel(labels)
    tile = pdist.repeat([b, 1])
    mask = adjacency_not.repeat([b, 1]) & (tile > torch.reshape(pdist.t(), [-1, 1]))
    mask_final = torch.reshape(torch.sum(mask, 1, keepdims=True) > 0.0, [b, b]).t()
    outside = torch.reshape(_masked_minimum(tile, mask), [b, b]).t()
    inside = _masked_maximum(pdist, adjacency_not).repeat([1, b])
    shn = torch.where(mask_final, outside, inside)
    loss_mat = (pdist - shn) + margin
    mask_pos = adjacency.float() - torch.eye(b)
    num_pos = torch.sum(mask_pos)
    return torch.sum(torch.max(loss_mat * mask_pos, torch.tensor([0.0]))) / num_pos


def main():
    folder, repeats = sys.argv[1], int(sys.argv[2])
    meta = json.load(open(os.path.join(folder, 'meta.json')))
    for case in meta['cases']:
        b, dim = case['B'], case['D']
        x = np.fromfile(os.path.join(folder, case['file']), dtype=np.float32).reshape(b, dim)
        labels = torch.from_numpy(np.fromfile(os.path.join(folder, case['labels']), dtype=np.int32).astype(np.int64))
        for name, fn in (('batch-hard', batch_hard), ('semi-hard', batch_semi_hard)):
            # ST's semi-hard builds B² x B tiles (float + bool + autograd copies): B = 1000 needed > 15 GB and was
            # OOM-killed on the 23 GB benchmark machine, so it is measured up to B = 500 only
            if name == 'semi-hard' and b > 500:
                continue
            times = []
            loss = None
            for _ in range(repeats + 1):
                raw = torch.from_numpy(x.copy()).requires_grad_(True)
                t0 = time.perf_counter()
                e = F.normalize(raw, p=2, dim=1)
                loss = fn(labels, e, 0.2, True)
                loss.backward()
                _ = raw.grad.sum().item()
                times.append((time.perf_counter() - t0) * 1000)
            times = times[1:]
            print(json.dumps({'impl': 'torch-st', 'miner': name, 'B': b, 'D': dim,
                              'median_ms': float(np.median(times)), 'loss': float(loss.item()), 'runs': repeats}), flush=True)


if __name__ == '__main__':
    main()
