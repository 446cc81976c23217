"""Head models acting on the current dipole moment: four-sphere EEG and MEG."""

from __future__ import annotations

import numpy as np
from lfpykit import eegmegcalc

from lfpk.model.probes.geometry import _locations, _vector

#: Magnetic permeability of vacuum (T m / A).
MU_0 = 4e-7 * np.pi
#: B (fT) per H (nA/um): H = 1 nA/um = 1e-3 A/m, B = mu_0 H = 4 pi 1e-10 T = 4 pi 1e5 fT.
FT_PER_NA_PER_UM = MU_0 * 1e-3 * 1e15


class FourSphereEEG:
    """EEG potential of a current dipole in the four-sphere head model.

    Wraps ``lfpykit.eegmegcalc.FourSphereVolumeConductor`` (corrected four-sphere model of
    Naess et al. 2017, Front Neuroinform 11:25; Hagen et al. 2018, J Neurosci Methods 300:1).
    Acts on the current dipole moment (``input = 'cdm'``), not on segment currents.

    Parameters
    ----------
    radii : array_like
        Outer radii of brain, CSF, skull, scalp (um), 4 increasing positive values.
    sigmas : array_like
        Conductivities of brain, CSF, skull, scalp (S/m), 4 positive values.
    dipole_location : array_like
        Dipole position (um), shape (3,), inside the brain sphere.
    electrode_locations : array_like
        Electrode positions (um), shape (3,) or (n_el, 3), farther from the centre than the
        dipole and not outside the scalp.

    Attributes
    ----------
    units : str
        ``'mV'``.
    """

    input = "cdm"
    units = "mV"
    long_name = "EEG potential (four-sphere head model)"
    channel_dim = "electrode"

    def __init__(self, radii, sigmas, dipole_location, electrode_locations):
        self.radii = _vector("radii", radii, ndim=1, length=4)
        if self.radii[0] <= 0 or np.any(np.diff(self.radii) <= 0):
            raise ValueError(f"radii must be positive and strictly increasing, got {self.radii}")
        self.sigmas = _vector("sigmas", sigmas, ndim=1, length=4)
        if np.any(self.sigmas <= 0):
            raise ValueError(f"sigmas must be > 0, got {self.sigmas}")
        self.dipole_location = _vector("dipole_location", dipole_location, ndim=1, length=3)
        rz = np.linalg.norm(self.dipole_location)
        if not 0 < rz < self.radii[0]:
            raise ValueError(
                f"dipole_location must lie inside the brain sphere (0 < |r| < {self.radii[0]} um), |r| = {rz}"
            )
        self.electrode_locations = _locations("electrode_locations", electrode_locations)
        r = np.linalg.norm(self.electrode_locations, axis=1)
        if np.any(r > self.radii[3]) or np.any(r <= rz):
            raise ValueError(
                "electrode_locations must satisfy |dipole_location| < |r| <= radii[3] "
                f"({rz} < |r| <= {self.radii[3]} um), got |r| = {r}"
            )

    @property
    def channel_coord(self):
        return np.arange(self.electrode_locations.shape[0])

    @property
    def channel_attrs(self):
        return {"long_name": "EEG electrode index",
                "electrode_locations_um": self.electrode_locations.ravel().tolist()}

    def get_transformation_matrix(self):
        """Matrix mapping the dipole moment (nA um) to electrode potentials (mV).

        Returns
        -------
        ndarray
            Shape (n_el, 3), mV/(nA um).
        """
        model = eegmegcalc.FourSphereVolumeConductor(
            self.electrode_locations, radii=self.radii.tolist(), sigmas=self.sigmas.tolist()
        )
        return model.get_transformation_matrix(self.dipole_location)


class MEG:
    """Magnetic field of a current dipole at MEG sensors.

    ``model='infinite'`` wraps ``lfpykit.eegmegcalc.InfiniteHomogeneousVolCondMEG`` (Biot-Savart
    law, ``H = p x R / (4 pi |R|^3)``, Nunez & Srinivasan 2006), the class LFPykit's examples
    import as ``MEG``; ``model='spherical'`` wraps ``SphericallySymmetricVolCondMEG`` (Sarvas
    1987, Phys Med Biol 32:11; sphere centred at the origin). Acts on the current dipole moment
    (``input = 'cdm'``). Note: a radial dipole produces no field outside a spherically symmetric
    conductor, and a dipole parallel to the dipole-sensor line produces none in either model.

    Parameters
    ----------
    sensor_locations : array_like
        Sensor positions (um), shape (3,) or (n_s, 3).
    dipole_location : array_like
        Dipole position (um), shape (3,).
    model : {'infinite', 'spherical'}
        Volume conductor model.
    quantity : {'H', 'B'}
        Output ``H`` in nA/um (LFPykit's unit; 1 nA/um = 1e-3 A/m) or ``B = mu_0 H`` in fT
        (1 nA/um -> 4 pi 1e5 fT, :data:`FT_PER_NA_PER_UM`).

    Attributes
    ----------
    units : str
        ``'nA/um'`` or ``'fT'``.

    Notes
    -----
    Layout: rows are sensor-major, ``row = 3 * sensor + component`` (components x, y, z), so
    ``(M @ p).reshape(n_s, 3, ...)`` recovers LFPykit's (n_s, 3, ...) layout.
    """

    input = "cdm"
    channel_dim = "meg_channel"

    def __init__(self, sensor_locations, dipole_location, model="infinite", quantity="H"):
        self.sensor_locations = _locations("sensor_locations", sensor_locations)
        self.dipole_location = _vector("dipole_location", dipole_location, ndim=1, length=3)
        if model not in ("infinite", "spherical"):
            raise ValueError(f"model must be 'infinite' or 'spherical', got {model!r}")
        if quantity not in ("H", "B"):
            raise ValueError(f"quantity must be 'H' or 'B', got {quantity!r}")
        dist = np.linalg.norm(self.sensor_locations - self.dipole_location, axis=1)
        if np.any(dist == 0):
            raise ValueError("sensor_locations must differ from dipole_location")
        if model == "spherical" and np.any(
            np.linalg.norm(self.sensor_locations, axis=1) <= np.linalg.norm(self.dipole_location)
        ):
            raise ValueError("sensor_locations must be farther from the origin than dipole_location")
        self.model = model
        self.quantity = quantity
        self.units = "nA/um" if quantity == "H" else "fT"
        self.long_name = ("magnetic field H" if quantity == "H" else "magnetic flux density B") + (
            " (infinite homogeneous volume conductor)" if model == "infinite"
            else " (spherically symmetric volume conductor)"
        )

    @property
    def channel_coord(self):
        n = self.sensor_locations.shape[0]
        return np.array([f"sensor{i}_{c}" for i in range(n) for c in "xyz"])

    @property
    def channel_attrs(self):
        return {"long_name": "MEG sensor and field component (row = 3 * sensor + component)",
                "sensor_locations_um": self.sensor_locations.ravel().tolist()}

    def get_transformation_matrix(self):
        """Matrix mapping the dipole moment (nA um) to the field at the sensors.

        Returns
        -------
        ndarray
            Shape (3 n_s, 3): (nA/um)/(nA um) for H, fT/(nA um) for B.
        """
        if self.model == "infinite":
            M = eegmegcalc.InfiniteHomogeneousVolCondMEG(self.sensor_locations)
        else:
            M = eegmegcalc.SphericallySymmetricVolCondMEG(self.sensor_locations)
        M = M.get_transformation_matrix(self.dipole_location)  # (n_s, 3, 3)
        M = M.reshape(-1, 3)
        return M * FT_PER_NA_PER_UM if self.quantity == "B" else M
