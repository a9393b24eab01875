import Linear
print("vst")
