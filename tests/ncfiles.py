"""Helpers for tests comparing netCDF files beyond their data."""


def netcdf_layout(path, skip_attrs=()):
    """Every variable's dims, dtype, storage, filters and attributes, the dimensions and the global
    attributes (except ``skip_attrs``): what a reader sees of a file besides its data."""
    import netCDF4

    with netCDF4.Dataset(path) as f:
        out = {"dims": {k: len(d) for k, d in f.dimensions.items()},
               "attrs": {k: str(f.getncattr(k)) for k in f.ncattrs() if k not in skip_attrs}}
        for name, v in f.variables.items():
            out[name] = (v.dimensions, str(v.dtype), v.chunking(), v.filters(),
                         {k: str(v.getncattr(k)) for k in v.ncattrs()})
        return out
