;; The learner's dense-layer kernels in WebAssembly SIMD (f64x2), float64 throughout.
;; model/gemmWasm.ts loads this module (compiled by scripts/build-wasm.mjs into
;; model/kernels.wasm.ts) and model/grad.ts calls it through a Workspace whose buffers live in
;; this module's memory. All pointers are byte offsets into that memory; matrices are row-major.
;;
;; The sums run in the same order as the plain-JS kernels in model/gemm.ts (start from the bias
;; or 0, add x * w for i = 0, 1, ... with a separate multiply and add), so the matrix products
;; are bit-identical to them; only tanh differs (its own, vectorised, within 2 ulp of Math.tanh).
(module
  (memory (export "memory") 1)

;; tanh of both lanes: sign(x) m / (m + 2) with m = expm1(2|x|), and 1 for |x| >= 22
  ;; (tanh(22) rounds to 1); NaN stays NaN. expm1(y), 0 <= y < 44: y = k ln2 + r with
  ;; |r| <= ln2 / 2; q = e^r - 1 by its Taylor series to r^13 without the constant term
  ;; (relative error below 1e-16); e^y - 1 = (2^k - 1) + 2^k q, 2^k from the exponent bits.
  (func $tanh2 (param $x v128) (result v128)
    (local $a v128) (local $y v128) (local $k v128) (local $r v128) (local $p v128) (local $s v128) (local $m v128)
    (local.set $a (f64x2.abs (local.get $x)))
    (local.set $y (f64x2.add (local.get $a) (local.get $a)))
    (local.set $k (f64x2.nearest (f64x2.mul (local.get $y) (f64x2.splat (f64.const 1.4426950408889634)))))
    (local.set $r (f64x2.sub (f64x2.sub (local.get $y) (f64x2.mul (local.get $k) (f64x2.splat (f64.const 6.93147180369123816490e-01))))
                             (f64x2.mul (local.get $k) (f64x2.splat (f64.const 1.90821492927058770002e-10)))))
    (local.set $p (f64x2.splat (f64.const 1.6059043836821613e-10))) ;; 1/13!
    (local.set $p (f64x2.add (f64x2.splat (f64.const 2.08767569878681e-09)) (f64x2.mul (local.get $r) (local.get $p)))) ;; 1/12!
    (local.set $p (f64x2.add (f64x2.splat (f64.const 2.505210838544172e-08)) (f64x2.mul (local.get $r) (local.get $p)))) ;; 1/11!
    (local.set $p (f64x2.add (f64x2.splat (f64.const 2.755731922398589e-07)) (f64x2.mul (local.get $r) (local.get $p)))) ;; 1/10!
    (local.set $p (f64x2.add (f64x2.splat (f64.const 2.7557319223985893e-06)) (f64x2.mul (local.get $r) (local.get $p)))) ;; 1/9!
    (local.set $p (f64x2.add (f64x2.splat (f64.const 2.48015873015873e-05)) (f64x2.mul (local.get $r) (local.get $p)))) ;; 1/8!
    (local.set $p (f64x2.add (f64x2.splat (f64.const 1.984126984126984e-04)) (f64x2.mul (local.get $r) (local.get $p)))) ;; 1/7!
    (local.set $p (f64x2.add (f64x2.splat (f64.const 1.388888888888889e-03)) (f64x2.mul (local.get $r) (local.get $p)))) ;; 1/6!
    (local.set $p (f64x2.add (f64x2.splat (f64.const 8.333333333333333e-03)) (f64x2.mul (local.get $r) (local.get $p)))) ;; 1/5!
    (local.set $p (f64x2.add (f64x2.splat (f64.const 4.1666666666666664e-02)) (f64x2.mul (local.get $r) (local.get $p)))) ;; 1/4!
    (local.set $p (f64x2.add (f64x2.splat (f64.const 1.6666666666666666e-01)) (f64x2.mul (local.get $r) (local.get $p)))) ;; 1/3!
    (local.set $p (f64x2.add (f64x2.splat (f64.const 0.5)) (f64x2.mul (local.get $r) (local.get $p)))) ;; 1/2!
    (local.set $p (f64x2.add (f64x2.splat (f64.const 1)) (f64x2.mul (local.get $r) (local.get $p)))) ;; 1/1!
    (local.set $p (f64x2.mul (local.get $r) (local.get $p))) ;; q = e^r - 1
    ;; 2^k: k (an integer-valued double, 0 <= k <= 64 here; NaN or huge lanes are replaced below)
    (local.set $s (i64x2.shl
      (i64x2.add (i64x2.extend_low_i32x4_s (i32x4.trunc_sat_f64x2_s_zero (local.get $k))) (i64x2.splat (i64.const 1023)))
      (i32.const 52)))
    (local.set $m (f64x2.add (f64x2.sub (local.get $s) (f64x2.splat (f64.const 1))) (f64x2.mul (local.get $s) (local.get $p))))
    (local.set $m (f64x2.div (local.get $m) (f64x2.add (local.get $m) (f64x2.splat (f64.const 2)))))
    ;; saturate |x| >= 22 to 1 (also +-Infinity), then give it the sign of x
    (local.set $m (v128.bitselect (f64x2.splat (f64.const 1)) (local.get $m) (f64x2.ge (local.get $a) (f64x2.splat (f64.const 22)))))
    (v128.or (local.get $m) (v128.and (local.get $x) (i64x2.splat (i64.const 0x8000000000000000)))))

  ;; tanh of one number (the lane 0 of $tanh2): the scalar tails of `dense` and the tests.
  (func $tanh (export "tanh") (param $x f64) (result f64)
    (f64x2.extract_lane 0 (call $tanh2 (f64x2.splat (local.get $x)))))

  ;; v * (1 - h * h) for the two lanes of h at address $hp: the tanh derivative.
  (func $dtanh2 (param $v v128) (param $hp i32) (result v128)
    (local $h v128)
    (local.set $h (v128.load (local.get $hp)))
    (f64x2.mul (local.get $v) (f64x2.sub (f64x2.splat (f64.const 1)) (f64x2.mul (local.get $h) (local.get $h)))))

  ;; The element-wise tail of `dense` for its last `mode`: a scalar.
  (func $finish (param $v f64) (param $mode i32) (param $hp i32) (result f64)
    (local $h f64)
    (if (i32.eq (local.get $mode) (i32.const 1)) (then (return (call $tanh (local.get $v)))))
    (if (i32.eq (local.get $mode) (i32.const 2))
      (then
        (local.set $h (f64.load (local.get $hp)))
        (return (f64.mul (local.get $v) (f64.sub (f64.const 1) (f64.mul (local.get $h) (local.get $h)))))))
    (local.get $v))

  ;; O[r, j] = f(b[j] + sum_i X[r, i] W[i, j]) for r < n, j < J. W is I x J at $w, X is n x I,
  ;; O and H are n x J. b at $b when $hasBias, else 0. f by $mode: 0 identity, 1 tanh,
  ;; 2 v * (1 - H[r, j]^2) (the backward pass through a tanh layer, with W = the next layer's
  ;; weights transposed). Two rows by eight columns per tile (8 lanes x 2 accumulators); columns
  ;; past the last multiple of 8 and an odd last row are handled by a scalar loop and by
  ;; repeating the row (the repeat stores the same values again).
  (func (export "dense") (param $w i32) (param $b i32) (param $hasBias i32) (param $I i32) (param $J i32)
        (param $x i32) (param $o i32) (param $n i32) (param $mode i32) (param $h i32)
    (local $r i32) (local $r1 i32) (local $x0 i32) (local $x1 i32) (local $o0 i32) (local $o1 i32)
    (local $j i32) (local $J8 i32) (local $i i32) (local $wp i32) (local $xp0 i32) (local $xp1 i32)
    (local $rowJ i32) (local $h0 i32) (local $h1 i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128)
    (local $u v128) (local $v v128) (local $w0 v128) (local $w1 v128) (local $w2 v128) (local $w3 v128)
    (local $s0 f64) (local $s1 f64) (local $wij f64)
    (local.set $J8 (i32.and (local.get $J) (i32.const -8)))
    (local.set $rowJ (i32.shl (local.get $J) (i32.const 3)))
    (local.set $r (i32.const 0))
    (block $rowsDone (loop $rows
      (br_if $rowsDone (i32.ge_s (local.get $r) (local.get $n)))
      (local.set $r1 (select (i32.add (local.get $r) (i32.const 1)) (local.get $r)
                             (i32.lt_s (i32.add (local.get $r) (i32.const 1)) (local.get $n))))
      (local.set $x0 (i32.add (local.get $x) (i32.shl (i32.mul (local.get $r) (local.get $I)) (i32.const 3))))
      (local.set $x1 (i32.add (local.get $x) (i32.shl (i32.mul (local.get $r1) (local.get $I)) (i32.const 3))))
      (local.set $o0 (i32.add (local.get $o) (i32.mul (local.get $r) (local.get $rowJ))))
      (local.set $o1 (i32.add (local.get $o) (i32.mul (local.get $r1) (local.get $rowJ))))
      (local.set $h0 (i32.add (local.get $h) (i32.mul (local.get $r) (local.get $rowJ))))
      (local.set $h1 (i32.add (local.get $h) (i32.mul (local.get $r1) (local.get $rowJ))))
      ;; tiles of 8 columns
      (local.set $j (i32.const 0))
      (block $tilesDone (loop $tiles
        (br_if $tilesDone (i32.ge_s (local.get $j) (local.get $J8)))
        (if (local.get $hasBias)
          (then
            (local.set $wp (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 3))))
            (local.set $a0 (v128.load offset=0 (local.get $wp)))
            (local.set $a1 (v128.load offset=16 (local.get $wp)))
            (local.set $a2 (v128.load offset=32 (local.get $wp)))
            (local.set $a3 (v128.load offset=48 (local.get $wp))))
          (else
            (local.set $a0 (f64x2.splat (f64.const 0)))
            (local.set $a1 (local.get $a0)) (local.set $a2 (local.get $a0)) (local.set $a3 (local.get $a0))))
        (local.set $c0 (local.get $a0)) (local.set $c1 (local.get $a1))
        (local.set $c2 (local.get $a2)) (local.set $c3 (local.get $a3))
        (local.set $wp (i32.add (local.get $w) (i32.shl (local.get $j) (i32.const 3))))
        (local.set $xp0 (local.get $x0))
        (local.set $xp1 (local.get $x1))
        (local.set $i (i32.const 0))
        (block $kDone (loop $k
          (br_if $kDone (i32.ge_s (local.get $i) (local.get $I)))
          (local.set $u (v128.load64_splat (local.get $xp0)))
          (local.set $v (v128.load64_splat (local.get $xp1)))
          (local.set $w0 (v128.load offset=0 (local.get $wp)))
          (local.set $w1 (v128.load offset=16 (local.get $wp)))
          (local.set $w2 (v128.load offset=32 (local.get $wp)))
          (local.set $w3 (v128.load offset=48 (local.get $wp)))
          (local.set $a0 (f64x2.add (local.get $a0) (f64x2.mul (local.get $u) (local.get $w0))))
          (local.set $a1 (f64x2.add (local.get $a1) (f64x2.mul (local.get $u) (local.get $w1))))
          (local.set $a2 (f64x2.add (local.get $a2) (f64x2.mul (local.get $u) (local.get $w2))))
          (local.set $a3 (f64x2.add (local.get $a3) (f64x2.mul (local.get $u) (local.get $w3))))
          (local.set $c0 (f64x2.add (local.get $c0) (f64x2.mul (local.get $v) (local.get $w0))))
          (local.set $c1 (f64x2.add (local.get $c1) (f64x2.mul (local.get $v) (local.get $w1))))
          (local.set $c2 (f64x2.add (local.get $c2) (f64x2.mul (local.get $v) (local.get $w2))))
          (local.set $c3 (f64x2.add (local.get $c3) (f64x2.mul (local.get $v) (local.get $w3))))
          (local.set $wp (i32.add (local.get $wp) (local.get $rowJ)))
          (local.set $xp0 (i32.add (local.get $xp0) (i32.const 8)))
          (local.set $xp1 (i32.add (local.get $xp1) (i32.const 8)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $k)))
        (local.set $wp (i32.shl (local.get $j) (i32.const 3))) ;; byte offset of column j in a row
        (if (i32.eq (local.get $mode) (i32.const 1))
          (then
            (local.set $a0 (call $tanh2 (local.get $a0))) (local.set $a1 (call $tanh2 (local.get $a1)))
            (local.set $a2 (call $tanh2 (local.get $a2))) (local.set $a3 (call $tanh2 (local.get $a3)))
            (local.set $c0 (call $tanh2 (local.get $c0))) (local.set $c1 (call $tanh2 (local.get $c1)))
            (local.set $c2 (call $tanh2 (local.get $c2))) (local.set $c3 (call $tanh2 (local.get $c3)))))
        (if (i32.eq (local.get $mode) (i32.const 2))
          (then
            (local.set $a0 (call $dtanh2 (local.get $a0) (i32.add (i32.add (local.get $h0) (local.get $wp)) (i32.const 0))))
            (local.set $a1 (call $dtanh2 (local.get $a1) (i32.add (i32.add (local.get $h0) (local.get $wp)) (i32.const 16))))
            (local.set $a2 (call $dtanh2 (local.get $a2) (i32.add (i32.add (local.get $h0) (local.get $wp)) (i32.const 32))))
            (local.set $a3 (call $dtanh2 (local.get $a3) (i32.add (i32.add (local.get $h0) (local.get $wp)) (i32.const 48))))
            (local.set $c0 (call $dtanh2 (local.get $c0) (i32.add (i32.add (local.get $h1) (local.get $wp)) (i32.const 0))))
            (local.set $c1 (call $dtanh2 (local.get $c1) (i32.add (i32.add (local.get $h1) (local.get $wp)) (i32.const 16))))
            (local.set $c2 (call $dtanh2 (local.get $c2) (i32.add (i32.add (local.get $h1) (local.get $wp)) (i32.const 32))))
            (local.set $c3 (call $dtanh2 (local.get $c3) (i32.add (i32.add (local.get $h1) (local.get $wp)) (i32.const 48))))))
        (local.set $xp0 (i32.add (local.get $o0) (local.get $wp)))
        (local.set $xp1 (i32.add (local.get $o1) (local.get $wp)))
        (v128.store offset=0 (local.get $xp0) (local.get $a0))
        (v128.store offset=16 (local.get $xp0) (local.get $a1))
        (v128.store offset=32 (local.get $xp0) (local.get $a2))
        (v128.store offset=48 (local.get $xp0) (local.get $a3))
        (v128.store offset=0 (local.get $xp1) (local.get $c0))
        (v128.store offset=16 (local.get $xp1) (local.get $c1))
        (v128.store offset=32 (local.get $xp1) (local.get $c2))
        (v128.store offset=48 (local.get $xp1) (local.get $c3))
        (local.set $j (i32.add (local.get $j) (i32.const 8)))
        (br $tiles)))
      ;; the remaining columns, one at a time
      (block $colsDone (loop $cols
        (br_if $colsDone (i32.ge_s (local.get $j) (local.get $J)))
        (local.set $s0 (if (result f64) (local.get $hasBias)
          (then (f64.load (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 3)))))
          (else (f64.const 0))))
        (local.set $s1 (local.get $s0))
        (local.set $wp (i32.add (local.get $w) (i32.shl (local.get $j) (i32.const 3))))
        (local.set $xp0 (local.get $x0))
        (local.set $xp1 (local.get $x1))
        (local.set $i (i32.const 0))
        (block $k2Done (loop $k2
          (br_if $k2Done (i32.ge_s (local.get $i) (local.get $I)))
          (local.set $wij (f64.load (local.get $wp)))
          (local.set $s0 (f64.add (local.get $s0) (f64.mul (f64.load (local.get $xp0)) (local.get $wij))))
          (local.set $s1 (f64.add (local.get $s1) (f64.mul (f64.load (local.get $xp1)) (local.get $wij))))
          (local.set $wp (i32.add (local.get $wp) (local.get $rowJ)))
          (local.set $xp0 (i32.add (local.get $xp0) (i32.const 8)))
          (local.set $xp1 (i32.add (local.get $xp1) (i32.const 8)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $k2)))
        (local.set $wp (i32.shl (local.get $j) (i32.const 3)))
        (f64.store (i32.add (local.get $o0) (local.get $wp))
          (call $finish (local.get $s0) (local.get $mode) (i32.add (local.get $h0) (local.get $wp))))
        (f64.store (i32.add (local.get $o1) (local.get $wp))
          (call $finish (local.get $s1) (local.get $mode) (i32.add (local.get $h1) (local.get $wp))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $cols)))
      (local.set $r (i32.add (local.get $r) (i32.const 2)))
      (br $rows))))

  ;; G[i, j] = sum_{r < n} X[r, i] D[r, j] (assigned): X is n x I, D is n x J, G is I x J at $g.
  ;; Two rows of G by eight columns per tile; the remaining columns one at a time; an odd last
  ;; row of G is computed twice.
  (func (export "gradW") (param $x i32) (param $d i32) (param $g i32) (param $I i32) (param $J i32) (param $n i32)
    (local $i i32) (local $i1 i32) (local $j i32) (local $J8 i32) (local $r i32)
    (local $xp i32) (local $xq i32) (local $dp i32) (local $rowI i32) (local $rowJ i32) (local $g0 i32) (local $g1 i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128)
    (local $u v128) (local $v v128) (local $e0 v128) (local $e1 v128) (local $e2 v128) (local $e3 v128)
    (local $s0 f64) (local $s1 f64) (local $dj f64)
    (local.set $J8 (i32.and (local.get $J) (i32.const -8)))
    (local.set $rowI (i32.shl (local.get $I) (i32.const 3)))
    (local.set $rowJ (i32.shl (local.get $J) (i32.const 3)))
    (local.set $i (i32.const 0))
    (block $rowsDone (loop $rows
      (br_if $rowsDone (i32.ge_s (local.get $i) (local.get $I)))
      (local.set $i1 (select (i32.add (local.get $i) (i32.const 1)) (local.get $i)
                             (i32.lt_s (i32.add (local.get $i) (i32.const 1)) (local.get $I))))
      (local.set $g0 (i32.add (local.get $g) (i32.mul (local.get $i) (local.get $rowJ))))
      (local.set $g1 (i32.add (local.get $g) (i32.mul (local.get $i1) (local.get $rowJ))))
      (local.set $j (i32.const 0))
      (block $tilesDone (loop $tiles
        (br_if $tilesDone (i32.ge_s (local.get $j) (local.get $J8)))
        (local.set $a0 (f64x2.splat (f64.const 0)))
        (local.set $a1 (local.get $a0)) (local.set $a2 (local.get $a0)) (local.set $a3 (local.get $a0))
        (local.set $c0 (local.get $a0)) (local.set $c1 (local.get $a0))
        (local.set $c2 (local.get $a0)) (local.set $c3 (local.get $a0))
        (local.set $xp (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 3))))
        (local.set $xq (i32.add (local.get $x) (i32.shl (local.get $i1) (i32.const 3))))
        (local.set $dp (i32.add (local.get $d) (i32.shl (local.get $j) (i32.const 3))))
        (local.set $r (i32.const 0))
        (block $kDone (loop $k
          (br_if $kDone (i32.ge_s (local.get $r) (local.get $n)))
          (local.set $u (v128.load64_splat (local.get $xp)))
          (local.set $v (v128.load64_splat (local.get $xq)))
          (local.set $e0 (v128.load offset=0 (local.get $dp)))
          (local.set $e1 (v128.load offset=16 (local.get $dp)))
          (local.set $e2 (v128.load offset=32 (local.get $dp)))
          (local.set $e3 (v128.load offset=48 (local.get $dp)))
          (local.set $a0 (f64x2.add (local.get $a0) (f64x2.mul (local.get $u) (local.get $e0))))
          (local.set $a1 (f64x2.add (local.get $a1) (f64x2.mul (local.get $u) (local.get $e1))))
          (local.set $a2 (f64x2.add (local.get $a2) (f64x2.mul (local.get $u) (local.get $e2))))
          (local.set $a3 (f64x2.add (local.get $a3) (f64x2.mul (local.get $u) (local.get $e3))))
          (local.set $c0 (f64x2.add (local.get $c0) (f64x2.mul (local.get $v) (local.get $e0))))
          (local.set $c1 (f64x2.add (local.get $c1) (f64x2.mul (local.get $v) (local.get $e1))))
          (local.set $c2 (f64x2.add (local.get $c2) (f64x2.mul (local.get $v) (local.get $e2))))
          (local.set $c3 (f64x2.add (local.get $c3) (f64x2.mul (local.get $v) (local.get $e3))))
          (local.set $xp (i32.add (local.get $xp) (local.get $rowI)))
          (local.set $xq (i32.add (local.get $xq) (local.get $rowI)))
          (local.set $dp (i32.add (local.get $dp) (local.get $rowJ)))
          (local.set $r (i32.add (local.get $r) (i32.const 1)))
          (br $k)))
        (local.set $xp (i32.add (local.get $g0) (i32.shl (local.get $j) (i32.const 3))))
        (local.set $xq (i32.add (local.get $g1) (i32.shl (local.get $j) (i32.const 3))))
        (v128.store offset=0 (local.get $xp) (local.get $a0))
        (v128.store offset=16 (local.get $xp) (local.get $a1))
        (v128.store offset=32 (local.get $xp) (local.get $a2))
        (v128.store offset=48 (local.get $xp) (local.get $a3))
        (v128.store offset=0 (local.get $xq) (local.get $c0))
        (v128.store offset=16 (local.get $xq) (local.get $c1))
        (v128.store offset=32 (local.get $xq) (local.get $c2))
        (v128.store offset=48 (local.get $xq) (local.get $c3))
        (local.set $j (i32.add (local.get $j) (i32.const 8)))
        (br $tiles)))
      (block $colsDone (loop $cols
        (br_if $colsDone (i32.ge_s (local.get $j) (local.get $J)))
        (local.set $s0 (f64.const 0))
        (local.set $s1 (f64.const 0))
        (local.set $xp (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 3))))
        (local.set $xq (i32.add (local.get $x) (i32.shl (local.get $i1) (i32.const 3))))
        (local.set $dp (i32.add (local.get $d) (i32.shl (local.get $j) (i32.const 3))))
        (local.set $r (i32.const 0))
        (block $k2Done (loop $k2
          (br_if $k2Done (i32.ge_s (local.get $r) (local.get $n)))
          (local.set $dj (f64.load (local.get $dp)))
          (local.set $s0 (f64.add (local.get $s0) (f64.mul (f64.load (local.get $xp)) (local.get $dj))))
          (local.set $s1 (f64.add (local.get $s1) (f64.mul (f64.load (local.get $xq)) (local.get $dj))))
          (local.set $xp (i32.add (local.get $xp) (local.get $rowI)))
          (local.set $xq (i32.add (local.get $xq) (local.get $rowI)))
          (local.set $dp (i32.add (local.get $dp) (local.get $rowJ)))
          (local.set $r (i32.add (local.get $r) (i32.const 1)))
          (br $k2)))
        (f64.store (i32.add (local.get $g0) (i32.shl (local.get $j) (i32.const 3))) (local.get $s0))
        (f64.store (i32.add (local.get $g1) (i32.shl (local.get $j) (i32.const 3))) (local.get $s1))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $cols)))
      (local.set $i (i32.add (local.get $i) (i32.const 2)))
      (br $rows))))
)
