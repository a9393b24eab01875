// Header-only: the declaration of LLVMFuzzerRunDriver lives in include/FuzzSupport.h.
