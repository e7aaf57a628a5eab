(module
 (type $0 (func (param i32 i32 i32 i32)))
 (type $1 (func))
 (import "env" "memory" (memory $arena 1 65536))
 (export "run" (func $run))
 (func $k0_C_p4 (param $0 i32) (param $1 i32) (param $2 i32) (param $3 i32)
  (local $4 i32)
  (local $5 i32)
  (local $6 i32)
  (local $7 v128)
  (local $8 v128)
  (local $9 v128)
  (local $10 i32)
  (local $11 i32)
  (local $12 i32)
  (local.set $5
   (i32.add
    (local.get $2)
    (i32.mul
     (local.get $3)
     (i32.const 4)
    )
   )
  )
  (local.set $6
   (i32.const 560)
  )
  (loop $L0
   (v128.store align=4
    (local.get $6)
    (v128.load align=4
     (local.get $5)
    )
   )
   (local.set $5
    (i32.add
     (local.get $5)
     (i32.const 20)
    )
   )
   (local.set $6
    (i32.add
     (local.get $6)
     (i32.const 16)
    )
   )
   (br_if $L0
    (i32.ne
     (local.get $6)
     (i32.const 832)
    )
   )
  )
  (local.set $4
   (i32.const 0)
  )
  (loop $L2
   (local.set $7
    (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
   )
   (local.set $10
    (i32.add
     (local.get $1)
     (i32.mul
      (local.get $4)
      (i32.const 68)
     )
    )
   )
   (local.set $11
    (i32.const 560)
   )
   (loop $L1
    (local.set $8
     (v128.load align=4
      (local.get $11)
     )
    )
    (local.set $9
     (v128.load32_splat
      (local.get $10)
     )
    )
    (local.set $7
     (f32x4.add
      (local.get $7)
      (f32x4.mul
       (local.get $9)
       (local.get $8)
      )
     )
    )
    (local.set $10
     (i32.add
      (local.get $10)
      (i32.const 4)
     )
    )
    (local.set $11
     (i32.add
      (local.get $11)
      (i32.const 16)
     )
    )
    (br_if $L1
     (i32.ne
      (local.get $11)
      (i32.const 832)
     )
    )
   )
   (local.set $12
    (i32.add
     (local.get $0)
     (i32.add
      (i32.mul
       (local.get $4)
       (i32.const 20)
      )
      (i32.mul
       (local.get $3)
       (i32.const 4)
      )
     )
    )
   )
   (v128.store align=4
    (local.get $12)
    (local.get $7)
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
 )
 (func $k0_C_edge (param $0 i32) (param $1 i32) (param $2 i32) (param $3 i32)
  (local $4 i32)
  (local $5 f32)
  (local $6 i32)
  (local $7 i32)
  (local $8 i32)
  (local.set $4
   (i32.const 0)
  )
  (loop $L2
   (local.set $3
    (i32.const 4)
   )
   (loop $L1
    (local.set $5
     (f32.const 0)
    )
    (local.set $8
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
     (local.set $5
      (f32.add
       (local.get $5)
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
     (local.set $8
      (i32.sub
       (local.get $8)
       (i32.const 1)
      )
     )
     (br_if $L0
      (local.get $8)
     )
    )
    (f32.store
     (i32.add
      (local.get $0)
      (i32.add
       (i32.mul
        (local.get $4)
        (i32.const 20)
       )
       (i32.mul
        (local.get $3)
        (i32.const 4)
       )
      )
     )
     (local.get $5)
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
 )
 (func $k0_C
  (local $0 i32)
  (local $1 i32)
  (local $2 i32)
  (local $3 i32)
  (local.set $0
   (i32.const 832)
  )
  (local.set $1
   (i32.const 0)
  )
  (local.set $2
   (i32.const 208)
  )
  (call $k0_C_p4
   (local.get $0)
   (local.get $1)
   (local.get $2)
   (i32.const 0)
  )
  (call $k0_C_edge
   (local.get $0)
   (local.get $1)
   (local.get $2)
   (i32.const 4)
  )
 )
 (func $run
  (call $k0_C)
 )
)
