(module
 (type $0 (func (param i32)))
 (type $1 (func))
 (import "env" "memory" (memory $arena 1 65536))
 (export "run" (func $run))
 (func $k0_Mu_b0 (param $0 i32)
  (local $1 f64)
  (local $2 i32)
  (local $3 v128)
  (local $4 i32)
  (local.set $4
   (i32.mul
    (local.get $0)
    (i32.const 68)
   )
  )
  (local.set $1
   (f64.const 0)
  )
  (local.set $3
   (f32x4.splat
    (f32.const 0)
   )
  )
  (local.set $2
   (i32.const 0)
  )
  (loop $L0
   (local.set $3
    (f32x4.add
     (local.get $3)
     (v128.load align=4
      (i32.add
       (local.get $4)
       (i32.mul
        (local.get $2)
        (i32.const 4)
       )
      )
     )
    )
   )
   (local.set $2
    (i32.add
     (local.get $2)
     (i32.const 4)
    )
   )
   (br_if $L0
    (i32.lt_s
     (local.get $2)
     (i32.const 16)
    )
   )
  )
  (local.set $1
   (f64.add
    (local.get $1)
    (f64.add
     (f64.add
      (f64.promote_f32
       (f32x4.extract_lane 0
        (local.get $3)
       )
      )
      (f64.promote_f32
       (f32x4.extract_lane 1
        (local.get $3)
       )
      )
     )
     (f64.add
      (f64.promote_f32
       (f32x4.extract_lane 2
        (local.get $3)
       )
      )
      (f64.promote_f32
       (f32x4.extract_lane 3
        (local.get $3)
       )
      )
     )
    )
   )
  )
  (local.set $2
   (i32.const 16)
  )
  (loop $L1
   (local.set $1
    (f64.add
     (local.get $1)
     (f64.promote_f32
      (f32.load
       (i32.add
        (local.get $4)
        (i32.mul
         (local.get $2)
         (i32.const 4)
        )
       )
      )
     )
    )
   )
   (local.set $2
    (i32.add
     (local.get $2)
     (i32.const 1)
    )
   )
   (br_if $L1
    (i32.lt_s
     (local.get $2)
     (i32.const 17)
    )
   )
  )
  (f32.store offset=208
   (i32.mul
    (local.get $0)
    (i32.const 4)
   )
   (f32.demote_f64
    (f64.div
     (local.get $1)
     (f64.const 17)
    )
   )
  )
 )
 (func $k0_Mu
  (local $0 i32)
  (local.set $0
   (i32.const 0)
  )
  (loop $L0
   (call $k0_Mu_b0
    (local.get $0)
   )
   (local.set $0
    (i32.add
     (local.get $0)
     (i32.const 1)
    )
   )
   (br_if $L0
    (i32.lt_s
     (local.get $0)
     (i32.const 3)
    )
   )
  )
 )
 (func $k1_Var_b0 (param $0 i32)
  (local $1 i32)
  (local $2 i32)
  (local.set $2
   (i32.mul
    (local.get $0)
    (i32.const 4)
   )
  )
  (local.set $1
   (i32.const 0)
  )
  (loop $L0
   (f32.store offset=224
    (i32.mul
     (local.get $1)
     (i32.const 4)
    )
    (f32.demote_f64
     (f64.add
      (f64.promote_f32
       (f32.load offset=224
        (i32.mul
         (local.get $1)
         (i32.const 4)
        )
       )
      )
      (f64.div
       (f64.mul
        (f64.sub
         (f64.promote_f32
          (f32.load
           (i32.add
            (local.get $2)
            (i32.mul
             (local.get $1)
             (i32.const 68)
            )
           )
          )
         )
         (f64.promote_f32
          (f32.load offset=208
           (i32.mul
            (local.get $1)
            (i32.const 4)
           )
          )
         )
        )
        (f64.sub
         (f64.promote_f32
          (f32.load
           (i32.add
            (local.get $2)
            (i32.mul
             (local.get $1)
             (i32.const 68)
            )
           )
          )
         )
         (f64.promote_f32
          (f32.load offset=208
           (i32.mul
            (local.get $1)
            (i32.const 4)
           )
          )
         )
        )
       )
       (f64.const 17)
      )
     )
    )
   )
   (local.set $1
    (i32.add
     (local.get $1)
     (i32.const 1)
    )
   )
   (br_if $L0
    (i32.lt_s
     (local.get $1)
     (i32.const 3)
    )
   )
  )
 )
 (func $k1_Var
  (local $0 i32)
  (memory.fill
   (i32.const 224)
   (i32.const 0)
   (i32.const 12)
  )
  (local.set $0
   (i32.const 0)
  )
  (loop $L0
   (call $k1_Var_b0
    (local.get $0)
   )
   (local.set $0
    (i32.add
     (local.get $0)
     (i32.const 1)
    )
   )
   (br_if $L0
    (i32.lt_s
     (local.get $0)
     (i32.const 17)
    )
   )
  )
 )
 (func $k2_Y_b0 (param $0 i32)
  (local $1 f64)
  (local $2 f64)
  (local $3 i32)
  (local $4 i32)
  (local $5 v128)
  (local $6 v128)
  (local.set $4
   (i32.mul
    (local.get $0)
    (i32.const 68)
   )
  )
  (local.set $1
   (f64.promote_f32
    (f32.load offset=208
     (i32.mul
      (local.get $0)
      (i32.const 4)
     )
    )
   )
  )
  (local.set $2
   (f64.div
    (f64.const 1)
    (f64.sqrt
     (f64.add
      (f64.promote_f32
       (f32.load offset=224
        (i32.mul
         (local.get $0)
         (i32.const 4)
        )
       )
      )
      (f64.const 0.00001)
     )
    )
   )
  )
  (local.set $5
   (f32x4.splat
    (f32.demote_f64
     (local.get $1)
    )
   )
  )
  (local.set $6
   (f32x4.splat
    (f32.demote_f64
     (local.get $2)
    )
   )
  )
  (local.set $3
   (i32.const 0)
  )
  (loop $L0
   (v128.store offset=240 align=4
    (i32.add
     (local.get $4)
     (i32.mul
      (local.get $3)
      (i32.const 4)
     )
    )
    (f32x4.mul
     (f32x4.sub
      (v128.load align=4
       (i32.add
        (local.get $4)
        (i32.mul
         (local.get $3)
         (i32.const 4)
        )
       )
      )
      (local.get $5)
     )
     (local.get $6)
    )
   )
   (local.set $3
    (i32.add
     (local.get $3)
     (i32.const 4)
    )
   )
   (br_if $L0
    (i32.lt_s
     (local.get $3)
     (i32.const 16)
    )
   )
  )
  (local.set $3
   (i32.const 16)
  )
  (loop $L1
   (f32.store offset=240
    (i32.add
     (local.get $4)
     (i32.mul
      (local.get $3)
      (i32.const 4)
     )
    )
    (f32.demote_f64
     (f64.mul
      (f64.sub
       (f64.promote_f32
        (f32.load
         (i32.add
          (local.get $4)
          (i32.mul
           (local.get $3)
           (i32.const 4)
          )
         )
        )
       )
       (local.get $1)
      )
      (local.get $2)
     )
    )
   )
   (local.set $3
    (i32.add
     (local.get $3)
     (i32.const 1)
    )
   )
   (br_if $L1
    (i32.lt_s
     (local.get $3)
     (i32.const 17)
    )
   )
  )
 )
 (func $k2_Y
  (local $0 i32)
  (local.set $0
   (i32.const 0)
  )
  (loop $L0
   (call $k2_Y_b0
    (local.get $0)
   )
   (local.set $0
    (i32.add
     (local.get $0)
     (i32.const 1)
    )
   )
   (br_if $L0
    (i32.lt_s
     (local.get $0)
     (i32.const 3)
    )
   )
  )
 )
 (func $run
  (call $k0_Mu)
  (call $k1_Var)
  (call $k2_Y)
 )
)
