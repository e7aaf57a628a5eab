(module
 (type $0 (func))
 (import "env" "memory" (memory $arena 1 65536))
 (export "run" (func $run))
 (func $k0_C
  (local $0 i32)
  (local $1 i32)
  (local $2 i32)
  (local $3 i32)
  (local $4 i32)
  (local $5 i32)
  (local $6 i32)
  (local $7 v128)
  (local $8 v128)
  (local $9 v128)
  (local $10 i32)
  (local $11 i32)
  (local $12 i32)
  (local $13 f32)
  (local $14 i32)
  (local $15 i32)
  (local $16 i32)
  (local.set $0
   (i32.const 560)
  )
  (local.set $1
   (i32.const 0)
  )
  (local.set $2
   (i32.const 208)
  )
  (local.set $4
   (i32.const 0)
  )
  (local.set $5
   (i32.add
    (local.get $2)
    (i32.mul
     (local.get $4)
     (i32.const 4)
    )
   )
  )
  (local.set $6
   (i32.const 624)
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
     (i32.const 896)
    )
   )
  )
  (local.set $3
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
      (local.get $3)
      (i32.const 68)
     )
    )
   )
   (local.set $11
    (i32.const 624)
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
      (i32.const 896)
     )
    )
   )
   (local.set $12
    (i32.add
     (local.get $0)
     (i32.add
      (i32.mul
       (local.get $3)
       (i32.const 20)
      )
      (i32.mul
       (local.get $4)
       (i32.const 4)
      )
     )
    )
   )
   (v128.store align=4
    (local.get $12)
    (local.get $7)
   )
   (local.set $3
    (i32.add
     (local.get $3)
     (i32.const 1)
    )
   )
   (br_if $L2
    (i32.lt_s
     (local.get $3)
     (i32.const 3)
    )
   )
  )
  (local.set $3
   (i32.const 0)
  )
  (loop $L5
   (local.set $4
    (i32.const 4)
   )
   (loop $L4
    (local.set $13
     (f32.const 0)
    )
    (local.set $16
     (i32.const 17)
    )
    (local.set $14
     (i32.add
      (local.get $1)
      (i32.mul
       (local.get $3)
       (i32.const 68)
      )
     )
    )
    (local.set $15
     (i32.add
      (local.get $2)
      (i32.mul
       (local.get $4)
       (i32.const 4)
      )
     )
    )
    (loop $L3
     (local.set $13
      (f32.add
       (local.get $13)
       (f32.mul
        (f32.load
         (local.get $14)
        )
        (f32.load
         (local.get $15)
        )
       )
      )
     )
     (local.set $14
      (i32.add
       (local.get $14)
       (i32.const 4)
      )
     )
     (local.set $15
      (i32.add
       (local.get $15)
       (i32.const 20)
      )
     )
     (local.set $16
      (i32.sub
       (local.get $16)
       (i32.const 1)
      )
     )
     (br_if $L3
      (local.get $16)
     )
    )
    (f32.store
     (i32.add
      (local.get $0)
      (i32.add
       (i32.mul
        (local.get $3)
        (i32.const 20)
       )
       (i32.mul
        (local.get $4)
        (i32.const 4)
       )
      )
     )
     (local.get $13)
    )
    (local.set $4
     (i32.add
      (local.get $4)
      (i32.const 1)
     )
    )
    (br_if $L4
     (i32.lt_s
      (local.get $4)
      (i32.const 5)
     )
    )
   )
   (local.set $3
    (i32.add
     (local.get $3)
     (i32.const 1)
    )
   )
   (br_if $L5
    (i32.lt_s
     (local.get $3)
     (i32.const 3)
    )
   )
  )
 )
 (func $run
  (call $k0_C)
 )
)
