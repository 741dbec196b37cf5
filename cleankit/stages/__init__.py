"""The built-in stages, one module (or small package) each. Each registers itself with
:func:`cleankit.core.stage.register_stage`; the registry imports every module of this
package on first use, so a new stage is one new file here."""
