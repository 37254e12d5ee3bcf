#!/usr/bin/env python3
"""Lists the coordinator's services through gRPC reflection v1alpha (what grpcio-reflection and
older tools speak) and fetches a file descriptor, with the client token; without it the
coordinator must answer UNAUTHENTICATED. Usage: reflect.py ADDRESS TOKEN"""
import sys

import grpc
from google.protobuf import descriptor_pb2
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

address, token = sys.argv[1], sys.argv[2]
stub = reflection_pb2_grpc.ServerReflectionStub(grpc.insecure_channel(address))


def ask(request, metadata):
    return next(stub.ServerReflectionInfo(iter([request]), metadata=metadata, timeout=10))


auth = [("authorization", f"Bearer {token}")]
services = sorted(
    s.name
    for s in ask(reflection_pb2.ServerReflectionRequest(list_services=""), auth)
    .list_services_response.service
)
print("services", " ".join(services))
files = ask(
    reflection_pb2.ServerReflectionRequest(file_containing_symbol="rgsweep.v1.Client"), auth
).file_descriptor_response.file_descriptor_proto
names = []
for raw in files:
    f = descriptor_pb2.FileDescriptorProto()
    f.ParseFromString(raw)
    names.append(f.name)
    if f.package == "rgsweep.v1":
        print("methods", " ".join(m.name for s in f.service for m in s.method))
print("files", " ".join(names))
try:
    ask(reflection_pb2.ServerReflectionRequest(list_services=""), [])
    print("unauthenticated: served")
except grpc.RpcError as e:
    print("unauthenticated:", e.code().name)
