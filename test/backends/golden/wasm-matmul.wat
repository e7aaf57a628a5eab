(module
 (type $0 (func))
 (type $1 (func (param i32 i32 i32 i32 i32)))
 (type $2 (func (param i32 i32 i32)))
 (import "env" "memory" (memory $arena 1 65536))
 (export "run" (func $run))
 (func $k0_C_axpy (param $0 i32) (param $1 i32) (param $2 i32) (param $3 i32) (param $4 i32)
  (local $5 i32)
  (local $6 i32)
  (local $7 i32)
  (local $8 i32)
  (local $9 v128)
  (local $10 v128)
  (local $11 v128)
  (local $12 v128)
  (local $13 i32)
  (local $14 i32)
  (local $15 i32)
  (local $16 v128)
  (local $17 i32)
  (local $18 v128)
  (local $19 i32)
  (local $20 i32)
  (local $21 i32)
  (local $22 v128)
  (local $23 i32)
  (local.set $5
   (local.get $3)
  )
  (loop $L6
   (local.set $6
    (select
     (i32.const 16)
     (i32.sub
      (local.get $4)
      (local.get $5)
     )
     (i32.lt_s
      (i32.add
       (local.get $5)
       (i32.const 16)
      )
      (local.get $4)
     )
    )
   )
   (local.set $7
    (i32.const 0)
   )
   (loop $L0
    (memory.fill
     (i32.add
      (i32.add
       (local.get $0)
       (i32.mul
        (local.get $7)
        (i32.const 20)
       )
      )
      (local.get $5)
     )
     (i32.const 0)
     (local.get $6)
    )
    (local.set $7
     (i32.add
      (local.get $7)
      (i32.const 1)
     )
    )
    (br_if $L0
     (i32.lt_s
      (local.get $7)
      (i32.const 3)
     )
    )
   )
   (local.set $8
    (i32.const 0)
   )
   (loop $L3
    (local.set $7
     (i32.const 0)
    )
    (loop $L1
     (local.set $17
      (i32.add
       (i32.add
        (local.get $1)
        (i32.mul
         (local.get $7)
         (i32.const 68)
        )
       )
       (i32.mul
        (local.get $8)
        (i32.const 4)
       )
      )
     )
     (local.set $9
      (v128.load32_splat
       (local.get $17)
      )
     )
     (local.set $10
      (v128.load32_splat offset=4
       (local.get $17)
      )
     )
     (local.set $11
      (v128.load32_splat offset=8
       (local.get $17)
      )
     )
     (local.set $12
      (v128.load32_splat offset=12
       (local.get $17)
      )
     )
     (local.set $13
      (i32.add
       (i32.add
        (local.get $0)
        (i32.mul
         (local.get $7)
         (i32.const 20)
        )
       )
       (local.get $5)
      )
     )
     (local.set $15
      (i32.add
       (local.get $13)
       (local.get $6)
      )
     )
     (local.set $14
      (i32.add
       (i32.add
        (local.get $2)
        (i32.mul
         (local.get $8)
         (i32.const 20)
        )
       )
       (local.get $5)
      )
     )
     (loop $L2
      (local.set $16
       (f32x4.add
        (v128.load align=4
         (local.get $13)
        )
        (f32x4.add
         (f32x4.add
          (f32x4.mul
           (local.get $9)
           (v128.load align=4
            (local.get $14)
           )
          )
          (f32x4.mul
           (local.get $10)
           (v128.load offset=20 align=4
            (local.get $14)
           )
          )
         )
         (f32x4.add
          (f32x4.mul
           (local.get $11)
           (v128.load offset=40 align=4
            (local.get $14)
           )
          )
          (f32x4.mul
           (local.get $12)
           (v128.load offset=60 align=4
            (local.get $14)
           )
          )
         )
        )
       )
      )
      (v128.store align=4
       (local.get $13)
       (local.get $16)
      )
      (local.set $13
       (i32.add
        (local.get $13)
        (i32.const 16)
       )
      )
      (local.set $14
       (i32.add
        (local.get $14)
        (i32.const 16)
       )
      )
      (br_if $L2
       (i32.ne
        (local.get $13)
        (local.get $15)
       )
      )
     )
     (local.set $7
      (i32.add
       (local.get $7)
       (i32.const 1)
      )
     )
     (br_if $L1
      (i32.lt_s
       (local.get $7)
       (i32.const 3)
      )
     )
    )
    (local.set $8
     (i32.add
      (local.get $8)
      (i32.const 4)
     )
    )
    (br_if $L3
     (i32.lt_s
      (local.get $8)
      (i32.const 16)
     )
    )
   )
   (local.set $7
    (i32.const 0)
   )
   (loop $L4
    (local.set $23
     (i32.add
      (i32.add
       (local.get $1)
       (i32.mul
        (local.get $7)
        (i32.const 68)
       )
      )
      (i32.const 64)
     )
    )
    (local.set $18
     (v128.load32_splat
      (local.get $23)
     )
    )
    (local.set $19
     (i32.add
      (i32.add
       (local.get $0)
       (i32.mul
        (local.get $7)
        (i32.const 20)
       )
      )
      (local.get $5)
     )
    )
    (local.set $21
     (i32.add
      (local.get $19)
      (local.get $6)
     )
    )
    (local.set $20
     (i32.add
      (i32.add
       (local.get $2)
       (i32.const 320)
      )
      (local.get $5)
     )
    )
    (loop $L5
     (local.set $22
      (f32x4.add
       (v128.load align=4
        (local.get $19)
       )
       (f32x4.mul
        (local.get $18)
        (v128.load align=4
         (local.get $20)
        )
       )
      )
     )
     (v128.store align=4
      (local.get $19)
      (local.get $22)
     )
     (local.set $19
      (i32.add
       (local.get $19)
       (i32.const 16)
      )
     )
     (local.set $20
      (i32.add
       (local.get $20)
       (i32.const 16)
      )
     )
     (br_if $L5
      (i32.ne
       (local.get $19)
       (local.get $21)
      )
     )
    )
    (local.set $7
     (i32.add
      (local.get $7)
      (i32.const 1)
     )
    )
    (br_if $L4
     (i32.lt_s
      (local.get $7)
      (i32.const 3)
     )
    )
   )
   (local.set $5
    (i32.add
     (local.get $5)
     (i32.const 16)
    )
   )
   (br_if $L6
    (i32.lt_s
     (local.get $5)
     (local.get $4)
    )
   )
  )
 )
 (func $k0_C_axpy_rest (param $0 i32) (param $1 i32) (param $2 i32)
  (local $3 i32)
  (local $4 i32)
  (local $5 i32)
  (local $6 i32)
  (local $7 i32)
  (local $8 f32)
  (local.set $3
   (i32.const 4)
  )
  (loop $L1
   (local.set $4
    (i32.const 0)
   )
   (loop $L2
    (local.set $8
     (f32.const 0)
    )
    (local.set $5
     (i32.const 17)
    )
    (local.set $6
     (i32.add
      (local.get $1)
      (i32.mul
       (local.get $4)
       (i32.const 68)
      )
     )
    )
    (local.set $7
     (i32.add
      (local.get $2)
      (i32.mul
       (local.get $3)
       (i32.const 4)
      )
     )
    )
    (loop $L0
     (local.set $8
      (f32.add
       (local.get $8)
       (f32.mul
        (f32.load
         (local.get $6)
        )
        (f32.load
         (local.get $7)
        )
       )
      )
     )
     (local.set $6
      (i32.add
       (local.get $6)
       (i32.const 4)
      )
     )
     (local.set $7
      (i32.add
       (local.get $7)
       (i32.const 20)
      )
     )
     (local.set $5
      (i32.sub
       (local.get $5)
       (i32.const 1)
      )
     )
     (br_if $L0
      (local.get $5)
     )
    )
    (f32.store
     (i32.add
      (i32.add
       (local.get $0)
       (i32.mul
        (local.get $4)
        (i32.const 20)
       )
      )
      (i32.mul
       (local.get $3)
       (i32.const 4)
      )
     )
     (local.get $8)
    )
    (local.set $4
     (i32.add
      (local.get $4)
      (i32.const 1)
     )
    )
    (br_if $L2
     (i32.lt_s
      (local.get $4)
      (i32.const 3)
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
     (i32.const 5)
    )
   )
  )
 )
 (func $k0_C
  (call $k0_C_axpy
   (i32.const 560)
   (i32.const 0)
   (i32.const 208)
   (i32.const 0)
   (i32.const 16)
  )
  (call $k0_C_axpy_rest
   (i32.const 560)
   (i32.const 0)
   (i32.const 208)
  )
 )
 (func $run
  (call $k0_C)
 )
)
