"""Build the one C extension (app/infotheory/_small.c); everything else is in pyproject.toml."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "app.infotheory._small",
            sources=["app/infotheory/_small.c"],
            extra_compile_args=["-O3"],
            optional=True,  # without a compiler the numpy kernels serve every size
        )
    ]
)
