(module
 (type $0 (func (param i32 i32 i32 i32 i32)))
 (type $1 (func (param i32 i32 i32)))
 (type $2 (func))
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
  (local $13 v128)
  (local $14 v128)
  (local $15 v128)
  (local $16 v128)
  (local $17 i32)
  (local $18 i32)
  (local $19 i32)
  (local $20 v128)
  (local $21 v128)
  (local $22 v128)
  (local $23 v128)
  (local $24 v128)
  (local $25 v128)
  (local $26 i32)
  (local $27 v128)
  (local $28 v128)
  (local $29 v128)
  (local $30 v128)
  (local $31 i32)
  (local $32 i32)
  (local $33 i32)
  (local $34 v128)
  (local $35 i32)
  (local $36 v128)
  (local $37 v128)
  (local $38 i32)
  (local $39 i32)
  (local $40 i32)
  (local $41 v128)
  (local $42 v128)
  (local $43 v128)
  (local $44 i32)
  (local $45 v128)
  (local $46 i32)
  (local $47 i32)
  (local $48 i32)
  (local $49 v128)
  (local $50 i32)
  (local.set $5
   (local.get $3)
  )
  (loop $L8
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
   (loop $L4
    (local.set $7
     (i32.const 0)
    )
    (loop $L2
     (local.set $26
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
       (local.get $26)
      )
     )
     (local.set $10
      (v128.load32_splat offset=16
       (local.get $26)
      )
     )
     (local.set $11
      (v128.load32_splat offset=32
       (local.get $26)
      )
     )
     (local.set $12
      (v128.load32_splat offset=48
       (local.get $26)
      )
     )
     (local.set $13
      (v128.load32_splat offset=68
       (local.get $26)
      )
     )
     (local.set $14
      (v128.load32_splat offset=84
       (local.get $26)
      )
     )
     (local.set $15
      (v128.load32_splat offset=100
       (local.get $26)
      )
     )
     (local.set $16
      (v128.load32_splat offset=116
       (local.get $26)
      )
     )
     (local.set $17
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
     (local.set $19
      (i32.add
       (local.get $17)
       (local.get $6)
      )
     )
     (local.set $18
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
     (loop $L1
      (local.set $22
       (v128.load align=4
        (local.get $18)
       )
      )
      (local.set $23
       (v128.load offset=80 align=4
        (local.get $18)
       )
      )
      (local.set $24
       (v128.load offset=160 align=4
        (local.get $18)
       )
      )
      (local.set $25
       (v128.load offset=240 align=4
        (local.get $18)
       )
      )
      (local.set $20
       (f32x4.add
        (v128.load align=4
         (local.get $17)
        )
        (f32x4.add
         (f32x4.add
          (f32x4.mul
           (local.get $9)
           (local.get $22)
          )
          (f32x4.mul
           (local.get $10)
           (local.get $23)
          )
         )
         (f32x4.add
          (f32x4.mul
           (local.get $11)
           (local.get $24)
          )
          (f32x4.mul
           (local.get $12)
           (local.get $25)
          )
         )
        )
       )
      )
      (local.set $21
       (f32x4.add
        (v128.load offset=20 align=4
         (local.get $17)
        )
        (f32x4.add
         (f32x4.add
          (f32x4.mul
           (local.get $13)
           (local.get $22)
          )
          (f32x4.mul
           (local.get $14)
           (local.get $23)
          )
         )
         (f32x4.add
          (f32x4.mul
           (local.get $15)
           (local.get $24)
          )
          (f32x4.mul
           (local.get $16)
           (local.get $25)
          )
         )
        )
       )
      )
      (v128.store align=4
       (local.get $17)
       (local.get $20)
      )
      (v128.store offset=20 align=4
       (local.get $17)
       (local.get $21)
      )
      (local.set $17
       (i32.add
        (local.get $17)
        (i32.const 16)
       )
      )
      (local.set $18
       (i32.add
        (local.get $18)
        (i32.const 16)
       )
      )
      (br_if $L1
       (i32.ne
        (local.get $17)
        (local.get $19)
       )
      )
     )
     (local.set $7
      (i32.add
       (local.get $7)
       (i32.const 2)
      )
     )
     (br_if $L2
      (i32.lt_s
       (local.get $7)
       (i32.const 2)
      )
     )
    )
    (local.set $7
     (i32.const 2)
    )
    (local.set $35
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
    (local.set $27
     (v128.load32_splat
      (local.get $35)
     )
    )
    (local.set $28
     (v128.load32_splat offset=16
      (local.get $35)
     )
    )
    (local.set $29
     (v128.load32_splat offset=32
      (local.get $35)
     )
    )
    (local.set $30
     (v128.load32_splat offset=48
      (local.get $35)
     )
    )
    (local.set $31
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
    (local.set $33
     (i32.add
      (local.get $31)
      (local.get $6)
     )
    )
    (local.set $32
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
    (loop $L3
     (local.set $34
      (f32x4.add
       (v128.load align=4
        (local.get $31)
       )
       (f32x4.add
        (f32x4.add
         (f32x4.mul
          (local.get $27)
          (v128.load align=4
           (local.get $32)
          )
         )
         (f32x4.mul
          (local.get $28)
          (v128.load offset=80 align=4
           (local.get $32)
          )
         )
        )
        (f32x4.add
         (f32x4.mul
          (local.get $29)
          (v128.load offset=160 align=4
           (local.get $32)
          )
         )
         (f32x4.mul
          (local.get $30)
          (v128.load offset=240 align=4
           (local.get $32)
          )
         )
        )
       )
      )
     )
     (v128.store align=4
      (local.get $31)
      (local.get $34)
     )
     (local.set $31
      (i32.add
       (local.get $31)
       (i32.const 16)
      )
     )
     (local.set $32
      (i32.add
       (local.get $32)
       (i32.const 16)
      )
     )
     (br_if $L3
      (i32.ne
       (local.get $31)
       (local.get $33)
      )
     )
    )
    (local.set $8
     (i32.add
      (local.get $8)
      (i32.const 1)
     )
    )
    (br_if $L4
     (i32.lt_s
      (local.get $8)
      (i32.const 4)
     )
    )
   )
   (local.set $7
    (i32.const 0)
   )
   (loop $L6
    (local.set $44
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
    (local.set $36
     (v128.load32_splat
      (local.get $44)
     )
    )
    (local.set $37
     (v128.load32_splat offset=68
      (local.get $44)
     )
    )
    (local.set $38
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
    (local.set $40
     (i32.add
      (local.get $38)
      (local.get $6)
     )
    )
    (local.set $39
     (i32.add
      (i32.add
       (local.get $2)
       (i32.const 320)
      )
      (local.get $5)
     )
    )
    (loop $L5
     (local.set $43
      (v128.load align=4
       (local.get $39)
      )
     )
     (local.set $41
      (f32x4.add
       (v128.load align=4
        (local.get $38)
       )
       (f32x4.mul
        (local.get $36)
        (local.get $43)
       )
      )
     )
     (local.set $42
      (f32x4.add
       (v128.load offset=20 align=4
        (local.get $38)
       )
       (f32x4.mul
        (local.get $37)
        (local.get $43)
       )
      )
     )
     (v128.store align=4
      (local.get $38)
      (local.get $41)
     )
     (v128.store offset=20 align=4
      (local.get $38)
      (local.get $42)
     )
     (local.set $38
      (i32.add
       (local.get $38)
       (i32.const 16)
      )
     )
     (local.set $39
      (i32.add
       (local.get $39)
       (i32.const 16)
      )
     )
     (br_if $L5
      (i32.ne
       (local.get $38)
       (local.get $40)
      )
     )
    )
    (local.set $7
     (i32.add
      (local.get $7)
      (i32.const 2)
     )
    )
    (br_if $L6
     (i32.lt_s
      (local.get $7)
      (i32.const 2)
     )
    )
   )
   (local.set $7
    (i32.const 2)
   )
   (local.set $50
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
   (local.set $45
    (v128.load32_splat
     (local.get $50)
    )
   )
   (local.set $46
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
   (local.set $48
    (i32.add
     (local.get $46)
     (local.get $6)
    )
   )
   (local.set $47
    (i32.add
     (i32.add
      (local.get $2)
      (i32.const 320)
     )
     (local.get $5)
    )
   )
   (loop $L7
    (local.set $49
     (f32x4.add
      (v128.load align=4
       (local.get $46)
      )
      (f32x4.mul
       (local.get $45)
       (v128.load align=4
        (local.get $47)
       )
      )
     )
    )
    (v128.store align=4
     (local.get $46)
     (local.get $49)
    )
    (local.set $46
     (i32.add
      (local.get $46)
      (i32.const 16)
     )
    )
    (local.set $47
     (i32.add
      (local.get $47)
      (i32.const 16)
     )
    )
    (br_if $L7
     (i32.ne
      (local.get $46)
      (local.get $48)
     )
    )
   )
   (local.set $5
    (i32.add
     (local.get $5)
     (i32.const 16)
    )
   )
   (br_if $L8
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
